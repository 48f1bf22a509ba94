"""``GET /v2.0/vpn/ipsec-site-connections/{id}/tunnel``: what the data plane
last said of a connection's tunnel (docs/api/tunnel.md).

Shown to whoever may show the connection (its 404s too). The answer is
built from the connection's row, its ``tunnels`` row (written by agents'
reports, :mod:`vpnaas.drivers.strongswan.tunnels`) and the row of the agent
that reported it; with no data plane it says so instead of failing.
Answers are not cached: they change with every report.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from vpnaas import errors
from vpnaas.api.controller import Controller
from vpnaas.context import RequestContext
from vpnaas.db.tunnels import load_tunnel
from vpnaas.drivers.strongswan import telemetry
from vpnaas.hooks import RuleEnv
from vpnaas.spec.agents import TIMESTAMP_FORMAT, agent_id

__all__ = ["NOT_REPORTED", "NO_DATA_PLANE", "shown_connection", "tunnel_document"]

CONNECTION = "ipsec_site_connection"
#: why a connection has no tunnel when no driver builds any
NO_DATA_PLANE = "no data plane: the null driver builds no tunnels"
#: why a connection has no tunnel yet under a real driver
NOT_REPORTED = "no agent has reported this connection yet"


def shown_connection(
    controller: Controller, env: RuleEnv, ctx: RequestContext, obj_id: str
) -> dict[str, Any]:
    """The connection as its show would find it, or show's 404."""
    res = env.res(CONNECTION)
    controller.authz.check_scope(ctx, f"get_{CONNECTION}")
    obj = env.repo.get(res, obj_id, controller.scope(ctx, res))
    if obj is None:
        raise controller.not_found(res, obj_id)
    if not controller.can_get(ctx, res, obj):
        raise errors.HTTPNotFound()
    return obj


def tunnel(controller: Controller, ctx: RequestContext, obj_id: str, driver: str) -> dict[str, Any]:
    """The ``{"tunnel": …}`` document of ``obj_id`` for ``ctx``."""
    with controller.reading(ctx) as env:
        conn = shown_connection(controller, env, ctx, obj_id)
        row = load_tunnel(env.repo.conn, env.repo.schema.tunnels, obj_id)
        agent = None
        if row is not None and row["host"]:
            agent = env.repo.get(env.res("agent"), agent_id(row["host"]))
    return {"tunnel": tunnel_document(conn, row, agent, driver)}


def _iso(stamp: str | None) -> str | None:
    """An agent timestamp (Neutron's format) as ISO 8601 UTC."""
    if not stamp:
        return None
    parsed = datetime.datetime.strptime(stamp, TIMESTAMP_FORMAT)  # noqa: DTZ007 (UTC by contract)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _next_rekey(ike: Mapping[str, Any] | None, children: list[Mapping[str, Any]]) -> str | None:
    stamps = [c.get("rekey_at") for c in children]
    if ike is not None:
        stamps.append(ike.get("rekey_at"))
    found = [s for s in stamps if isinstance(s, str)]
    return min(found) if found else None


def _agent(agent: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    return {
        "host": agent["host"],
        "alive": agent["alive"],
        "last_report_at": _iso(agent["heartbeat_timestamp"]),
    }


def tunnel_document(
    conn: Mapping[str, Any],
    row: Mapping[str, Any] | None,
    agent: Mapping[str, Any] | None,
    driver: str,
) -> dict[str, Any]:
    """The tunnel of ``conn`` from its ``tunnels`` ``row`` and the ``agent``
    that reported it (either may be missing)."""
    sas: Mapping[str, Any] = row["sas"] if row else {}
    ike = _mapping(sas.get("ike_sa"))
    raw_children = sas.get("child_sas")
    children = (
        [c for c in raw_children if isinstance(c, Mapping)]
        if isinstance(raw_children, list)
        else []
    )
    counters = row["counters"] if row else telemetry.empty_counters()
    reason = conn.get("status_reason")
    if row is None and reason is None:
        reason = NO_DATA_PLANE if driver == "null" else NOT_REPORTED
    installed = [c for c in children if c.get("state") == "INSTALLED"]
    return {
        "connection_id": conn["id"],
        "data_plane": driver,
        "status": conn["status"],
        "status_reason": reason,
        "last_status_change": row["last_status_change"] if row else None,
        "agent": _agent(agent),
        "ike_sa": dict(ike) if ike else None,
        "child_sas": [dict(c) for c in children],
        "local_address": ike.get("local_host") if ike else None,
        "peer_address": ike.get("remote_host") if ike else None,
        "nat_t": ike.get("nat_t") if ike else None,
        "ike_proposal": ike.get("proposal") if ike else None,
        "esp_proposal": installed[0].get("proposal") if installed else None,
        "established_at": ike.get("established_at") if ike else None,
        "last_rekey_at": counters.get("last_rekey_at"),
        "next_rekey_at": _next_rekey(ike, installed),
        **telemetry.totals(counters),
        "effective_mtu": sas.get("mtu"),
        "effective_dpd_timeout": sas.get("dpd_timeout"),
        "history": list(row["history"]) if row else [],
    }
