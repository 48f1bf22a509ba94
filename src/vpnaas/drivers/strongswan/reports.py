"""What an agent's report changes: its heartbeat, and the status of the
connections it reports for their current desired revision.

A report is applied in one write transaction that first rebuilds the
desired state of the agent's routers, so a connection entry naming any
other revision is stale and changes nothing (a report never overwrites a
newer desired state). Only what changed is written, in a fixed number of
statements (one per table); a write bumps the write counters like every
other write, so cached answers stay correct, and a report that changes
nothing bumps none but the agent's own.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import sqlalchemy as sa

from vpnaas import errors
from vpnaas.db.statuses import load_columns, write_columns
from vpnaas.drivers.strongswan import telemetry
from vpnaas.drivers.strongswan.kept import KeptRows
from vpnaas.drivers.strongswan.state import STATUS_COUNTERS, current_revisions
from vpnaas.drivers.strongswan.tunnels import TunnelRows, iso_stamp
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


def apply_report(
    env: RuleEnv, report: Report, kept: KeptRows | None = None
) -> dict[str, list[str]]:
    """Record the heartbeat and the fresh entries of ``report`` (inside the
    caller's write transaction); answer which entries were accepted, and
    which connections the agent should report again (docs/agent-protocol.md
    §reports: a report carries only what changed since the last one)."""
    was_alive = _heartbeat(env, report)
    services, statuses = _lock_routers(env, report.routers)
    ids = {entry.id for entry in report.connections}
    current = current_revisions(env, report.routers, ids, kept)
    fresh: dict[str, ConnectionReport] = {}
    stale = []
    for entry in report.connections:
        found = current.get(entry.id)
        if found is None or found[0] != entry.revision:
            stale.append(entry.id)
            continue
        if not found[1]:  # never ACTIVE while admin-down, whatever charon says
            entry = replace(entry, status=DOWN, reason=ADMIN_DOWN)
        fresh[entry.id] = entry
    since = report.configurations.get("charon_since")
    _record(env, report.host, since if isinstance(since, str) else None, fresh)
    named = {entry.id for entry in report.connections}
    resend = [
        conn_id
        for conn_id, status in statuses.items()
        if conn_id not in named and (not was_alive or status in PENDING_STATUSES)
    ]
    _settle_services(env, services)
    answer = {"accepted": list(fresh), "stale": stale}
    return {**answer, "resend": sorted(resend)} if resend else answer


def _record(
    env: RuleEnv, host: str, since: str | None, entries: dict[str, ConnectionReport]
) -> None:
    """Write the status of ``entries`` that changed, and their tunnel rows:
    a fixed number of statements however many there are."""
    table = env.schema.table("ipsec_site_connection")
    stored = load_columns(env.repo.conn, table, sorted(entries), ("status", "status_reason"))
    tunnels = TunnelRows(env, entries)
    at = iso_stamp()
    changes: dict[str, dict[str, Any]] = {}
    for conn_id, entry in entries.items():
        if conn_id not in stored:
            continue
        status = entry.status
        reason = entry.reason if status != ACTIVE else None
        if (stored[conn_id]["status"], stored[conn_id]["status_reason"]) != (status, reason):
            changes[conn_id] = {"status": status, "status_reason": reason}
            tunnels.status(conn_id, at, status, reason)
        tunnels.telemetry(conn_id, host, since, entry.telemetry)
    if changes:
        write_columns(env.repo.conn, table, changes)
        env.repo.touched.update(("ipsec_site_connection", STATUS_COUNTERS["ipsec_site_connection"]))
    tunnels.flush()


def _lock_routers(env: RuleEnv, routers: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """Lock the services and connections of ``routers`` before reading
    their desired state, so an update committing meanwhile (it locks the
    rows it changes) waits, and no report for the old revision lands after
    it (SQLite's write transaction excludes every other writer anyway).
    Return the services' ids and each connection's stored status."""
    services = env.schema.table("vpnservice")
    conns = env.schema.table("ipsec_site_connection")
    ids = list(
        env.repo.conn.scalars(
            sa.select(services.c.id)
            .where(services.c.router_id.in_(routers))
            .with_for_update(key_share=True)
        )
    )
    if not ids:
        return ids, {}
    rows = env.repo.conn.execute(
        sa.select(conns.c.id, conns.c.status)
        .where(conns.c.vpnservice_id.in_(ids))
        .with_for_update(key_share=True)
    )
    return ids, {str(row.id): str(row.status) for row in rows}


def _heartbeat(env: RuleEnv, report: Report) -> bool:
    """Record the heartbeat; whether the agent was alive before it (a new
    or revived agent's connections were set ``DOWN`` meanwhile, so it is
    asked to report all of them again)."""
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
        return False
    if not current["alive"]:
        values["started_at"] = stamp
    env.repo.update(res, obj_id, values)
    return bool(current["alive"])


def service_status(statuses: list[str]) -> str:
    """ACTIVE when one connection is, else ERROR when one is, else DOWN."""
    if ACTIVE in statuses:
        return ACTIVE
    return ERROR if ERROR in statuses else DOWN


def _settle_services(env: RuleEnv, service_ids: list[str]) -> None:
    """Derive the reported routers' services' status from their connections'."""
    table = env.schema.table("ipsec_site_connection")
    statuses: dict[str, list[str]] = {service_id: [] for service_id in service_ids}
    rows = env.repo.conn.execute(
        sa.select(table.c.vpnservice_id, table.c.status).where(
            table.c.vpnservice_id.in_(service_ids)
        )
    )
    for service_id, status in rows:
        if status not in PENDING_STATUSES:
            statuses[service_id].append(status)
    services = env.schema.table("vpnservice")
    stored = load_columns(env.repo.conn, services, service_ids, ("status", "admin_state_up"))
    changes = {}
    for service_id, found in stored.items():
        status = service_status(statuses[service_id]) if found["admin_state_up"] else DOWN
        if found["status"] != status:
            changes[service_id] = {"status": status}
    if changes:
        write_columns(env.repo.conn, services, changes)
        env.repo.touched.update(("vpnservice", STATUS_COUNTERS["vpnservice"]))
