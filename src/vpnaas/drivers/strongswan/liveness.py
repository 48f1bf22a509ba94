"""Agents that stopped reporting: marked dead, their connections ``DOWN``.

Every process serving the agent API runs one :class:`Sweeper`. A sweep is a
read while nothing is late; only when an alive agent's last heartbeat is
older than ``agent_down_time`` does it write, in one transaction whose
conditions make it idempotent, so several servers sweeping the same database
agree. A freshly started server waits one ``agent_down_time`` before its
first sweep: while no server ran, agents could not report, and their
silence says nothing about their tunnels.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from vpnaas.db.engine import retrying
from vpnaas.db.revisions import marker
from vpnaas.db.statuses import write_columns
from vpnaas.db.tables import Schema
from vpnaas.drivers.strongswan.state import STATUS_COUNTERS
from vpnaas.drivers.strongswan.tunnels import TunnelRows, iso_stamp
from vpnaas.hooks import RuleEnv
from vpnaas.spec.agents import TIMESTAMP_FORMAT
from vpnaas.spec.vpn import ACTIVE, DOWN, ERROR

__all__ = ["Sweeper", "late_agents", "late_query", "sweep"]

LOG = logging.getLogger(__name__)
SILENT = "agent not heard from"


def _cutoff(down_time: int) -> str:
    then = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=down_time)
    return then.strftime(TIMESTAMP_FORMAT)


def late_query(schema: Schema, paramstyle: str, down_time: int) -> tuple[str, tuple[Any, ...]]:
    """Plain SQL finding one late agent, if any (what a sweep runs every
    second while all is well)."""
    mark = marker(paramstyle)
    table = schema.table("agent").name
    sql = f"SELECT id FROM {table} WHERE alive = {mark} AND heartbeat_timestamp < {mark} LIMIT 1"  # noqa: S608
    return sql, (True, _cutoff(down_time))


def late_agents(env: RuleEnv, down_time: int) -> list[dict[str, Any]]:
    table = env.schema.table("agent")
    return env.repo.find(
        env.res("agent"),
        table.c.alive.is_(True),
        table.c.heartbeat_timestamp < _cutoff(down_time),
    )


def sweep(env: RuleEnv, down_time: int) -> list[str]:
    """Mark late agents dead and their routers' connections and services
    ``DOWN`` (inside the caller's write transaction); return their hosts."""
    late = late_agents(env, down_time)
    if not late:
        return []
    agents = env.schema.table("agent")
    for agent in late:
        env.repo.update(env.res("agent"), agent["id"], {"alive": False})
    alive = env.repo.find(env.res("agent"), agents.c.alive.is_(True))
    served = {r for agent in alive for r in agent["configurations"].get("routers", [])}
    orphaned = {r for agent in late for r in agent["configurations"].get("routers", [])} - served
    if orphaned:
        _down(env, sorted(orphaned))
    return [agent["host"] for agent in late]


def _down(env: RuleEnv, routers: list[str]) -> None:
    services = env.schema.table("vpnservice")
    conns = env.schema.table("ipsec_site_connection")
    ids = sa.select(services.c.id).where(services.c.router_id.in_(routers))
    up = (ACTIVE, ERROR)
    conn_rows = env.repo.ids(
        env.res("ipsec_site_connection"), conns.c.vpnservice_id.in_(ids), conns.c.status.in_(up)
    )
    if conn_rows:
        write_columns(
            env.repo.conn,
            conns,
            {key: {"status": DOWN, "status_reason": SILENT} for key in conn_rows},
        )
        env.repo.touched.update(("ipsec_site_connection", STATUS_COUNTERS["ipsec_site_connection"]))
        tunnels, at = TunnelRows(env, conn_rows), iso_stamp()
        for conn_id in conn_rows:
            tunnels.status(conn_id, at, DOWN, SILENT)
        tunnels.flush()
    for service_id in env.repo.ids(
        env.res("vpnservice"), services.c.router_id.in_(routers), services.c.status.in_(up)
    ):
        env.repo.update(env.res("vpnservice"), service_id, {"status": DOWN})
        env.repo.touched.add(STATUS_COUNTERS["vpnservice"])


class Sweeper(threading.Thread):
    """Calls ``run_sweep`` every ``interval`` seconds, after a grace period
    of ``down_time`` seconds, until :meth:`stop`."""

    def __init__(
        self, run_sweep: Callable[[], list[str]], down_time: int, interval: float = 1.0
    ) -> None:
        super().__init__(name="vpnaas-agent-sweeper", daemon=True)
        self.run_sweep = run_sweep
        self.grace = float(down_time)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        if self.stopped.wait(self.grace):
            return
        while not self.stopped.is_set():
            try:
                hosts = retrying(self.run_sweep)
            except Exception:  # the database may be away; the next sweep retries
                LOG.exception("agent liveness sweep failed")
            else:
                for host in hosts:
                    LOG.warning("agent on %s not heard from: its connections are DOWN", host)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
