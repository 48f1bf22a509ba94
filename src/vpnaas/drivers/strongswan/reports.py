"""What an agent's report changes: its heartbeat, and the status of the
connections it reports for their current desired revision.

A report is applied in one write transaction that first rebuilds the
desired state of the agent's routers, so a connection entry naming any
other revision is stale and changes nothing (a report never overwrites a
newer desired state). Status writes bump the write counters like every
other write, so cached answers stay correct.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from vpnaas import errors
from vpnaas.drivers.strongswan import telemetry
from vpnaas.drivers.strongswan.state import desired_state
from vpnaas.drivers.strongswan.tunnels import iso_stamp, record_status, record_telemetry
from vpnaas.hooks import RuleEnv
from vpnaas.spec.agents import AGENT_BINARY, TIMESTAMP_FORMAT, agent_id
from vpnaas.spec.kinds import Invalid
from vpnaas.spec.vpn import ACTIVE, DOWN, ERROR, PENDING_STATUSES

__all__ = [
    "ConnectionReport",
    "Report",
    "apply_report",
    "parse_report",
    "service_status",
]

REPORTED = (ACTIVE, DOWN, ERROR)
#: the longest reason kept (longer ones are cut, never refused: a report
#: refused for its wording would stop the agent's heartbeat)
REASON_MAX = 255
ADMIN_DOWN = "admin down"


@dataclass(frozen=True)
class ConnectionReport:
    id: str
    revision: str
    status: str
    reason: str | None
    telemetry: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    host: str
    binary: str
    routers: tuple[str, ...]
    configurations: dict[str, Any]
    connections: tuple[ConnectionReport, ...]


def _text(doc: dict[str, Any], key: str, limit: int = 255, *, default: Any = ...) -> Any:
    value = doc.get(key, default)
    if value is ...:
        raise errors.InvalidAgentRequest(reason=f"{key} is required")
    if value is not None and (not isinstance(value, str) or not value or len(value) > limit):
        raise errors.InvalidAgentRequest(
            reason=f"{key} must be a string of 1 to {limit} characters"
        )
    return value


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise errors.InvalidAgentRequest(reason=f"{key} must be a list")
    return value


def parse_report(doc: Any) -> Report:
    """The report in ``doc``, or ``InvalidAgentRequest``."""
    if not isinstance(doc, dict):
        raise errors.InvalidAgentRequest(reason="the body must be a JSON object")
    routers = [_text({"router": r}, "router", 36) for r in _list(doc, "routers")]
    configurations = doc.get("configurations", {})
    if not isinstance(configurations, dict):
        raise errors.InvalidAgentRequest(reason="configurations must be an object")
    return Report(
        host=_text(doc, "host"),
        binary=_text(doc, "binary", default=AGENT_BINARY) or AGENT_BINARY,
        routers=tuple(dict.fromkeys(routers)),
        configurations={**configurations, "routers": list(dict.fromkeys(routers))},
        connections=tuple(_connection(entry) for entry in _list(doc, "connections")),
    )


def _connection(entry: Any) -> ConnectionReport:
    if not isinstance(entry, dict):
        raise errors.InvalidAgentRequest(reason="each connection must be an object")
    status = entry.get("status")
    if status not in REPORTED:
        raise errors.InvalidAgentRequest(reason=f"status must be one of {', '.join(REPORTED)}")
    reason = entry.get("reason") or None
    if reason is not None:
        if not isinstance(reason, str):
            raise errors.InvalidAgentRequest(reason="reason must be a string or null")
        reason = reason[:REASON_MAX]
    return ConnectionReport(
        _text(entry, "id", 36), _text(entry, "revision", 64), status, reason, _telemetry(entry)
    )


def _telemetry(entry: dict[str, Any]) -> dict[str, Any]:
    value = entry.get("telemetry") or {}
    if not isinstance(value, dict):
        raise errors.InvalidAgentRequest(reason="telemetry must be an object")
    if len(orjson.dumps(value)) > telemetry.TELEMETRY_MAX:
        raise errors.InvalidAgentRequest(
            reason=f"telemetry exceeds {telemetry.TELEMETRY_MAX} characters"
        )
    return value


def now_stamp(now: datetime.datetime | None = None) -> str:
    return (now or datetime.datetime.now(datetime.UTC)).strftime(TIMESTAMP_FORMAT)


def apply_report(env: RuleEnv, report: Report) -> dict[str, list[str]]:
    """Record the heartbeat and the fresh entries of ``report`` (inside the
    caller's write transaction); answer which entries were accepted."""
    _heartbeat(env, report)
    _lock_routers(env, report.routers)
    state = desired_state(env, report.routers)
    current: dict[str, tuple[str, bool]] = {}
    for router in state["routers"]:
        for service in router["services"]:
            for conn in service["connections"]:
                admin_up = conn["admin_state_up"] and service["admin_state_up"]
                current[conn["id"]] = (conn["revision"], admin_up)
    accepted, stale = [], []
    for entry in report.connections:
        found = current.get(entry.id)
        if found is None or found[0] != entry.revision:
            stale.append(entry.id)
            continue
        status, reason = entry.status, entry.reason
        if not found[1]:  # never ACTIVE while admin-down, whatever charon says
            status, reason = DOWN, ADMIN_DOWN
        _set_connection(env, entry.id, status, reason if status != ACTIVE else None)
        since = report.configurations.get("charon_since")
        record_telemetry(
            env, entry.id, report.host, since if isinstance(since, str) else None, entry.telemetry
        )
        accepted.append(entry.id)
    for router in state["routers"]:
        for service in router["services"]:
            _settle_service(env, service["id"])
    return {"accepted": accepted, "stale": stale}


def _lock_routers(env: RuleEnv, routers: tuple[str, ...]) -> None:
    """Lock the services and connections of ``routers`` before reading
    their desired state, so an update committing meanwhile (it locks the
    rows it changes) waits, and no report for the old revision lands after
    it (SQLite's write transaction excludes every other writer anyway)."""
    services = env.schema.table("vpnservice")
    conns = env.schema.table("ipsec_site_connection")
    ids = list(
        env.repo.conn.scalars(
            sa.select(services.c.id).where(services.c.router_id.in_(routers)).with_for_update()
        )
    )
    if ids:
        env.repo.conn.execute(
            sa.select(conns.c.id).where(conns.c.vpnservice_id.in_(ids)).with_for_update()
        ).all()


def _heartbeat(env: RuleEnv, report: Report) -> None:
    res = env.res("agent")
    stamp = now_stamp()
    obj_id = agent_id(report.host)
    values = {
        "binary": report.binary,
        "heartbeat_timestamp": stamp,
        "configurations": report.configurations,
        "alive": True,
    }
    try:
        res.field("configurations").kind.validate(report.configurations)
    except Invalid as exc:
        raise errors.InvalidAgentRequest(reason=f"configurations {exc.reason}") from None
    current = env.repo.get(res, obj_id, lock=True)
    if current is None:
        new = {f.name: f.default for f in res.fields}
        new.update(values, id=obj_id, host=report.host, created_at=stamp, started_at=stamp)
        env.repo.insert(res, new)
    else:
        if not current["alive"]:
            values["started_at"] = stamp
        env.repo.update(res, obj_id, values)


def _set_connection(env: RuleEnv, conn_id: str, status: str, reason: str | None) -> None:
    res = env.res("ipsec_site_connection")
    current = env.repo.get(res, conn_id, fields=("status", "status_reason"))
    if current is None:
        return
    if (current["status"], current["status_reason"]) != (status, reason):
        env.repo.update(res, conn_id, {"status": status, "status_reason": reason})
        record_status(env, conn_id, iso_stamp(), status, reason)


def service_status(statuses: list[str]) -> str:
    """ACTIVE when one connection is, else ERROR when one is, else DOWN."""
    if ACTIVE in statuses:
        return ACTIVE
    return ERROR if ERROR in statuses else DOWN


def _settle_service(env: RuleEnv, service_id: str) -> None:
    """Derive a reported router's service status from its connections'."""
    table = env.schema.table("ipsec_site_connection")
    statuses = list(
        env.repo.conn.scalars(sa.select(table.c.status).where(table.c.vpnservice_id == service_id))
    )
    res = env.res("vpnservice")
    service = env.repo.get(res, service_id, fields=("status", "admin_state_up"))
    if service is None:
        return
    settled = [s for s in statuses if s not in PENDING_STATUSES]
    status = service_status(settled) if service["admin_state_up"] else DOWN
    if service["status"] != status:
        env.repo.update(res, service_id, {"status": status})
