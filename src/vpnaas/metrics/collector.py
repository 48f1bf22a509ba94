"""Gauges and counters read from the database at each scrape: connections
by status, each connection's tunnel and traffic, each agent's liveness.

Every server process could answer these from the same database, so they are
not recorded by the workers but computed here, when Prometheus asks: a
scrape is three reads, whatever the number of workers.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from vpnaas import errors
from vpnaas.db.engine import Database
from vpnaas.db.tables import Schema
from vpnaas.drivers.strongswan.telemetry import totals
from vpnaas.spec.agents import TIMESTAMP_FORMAT
from vpnaas.spec.vpn import ACTIVE, STATUSES

__all__ = ["DatabaseCollector"]

LOG = logging.getLogger(__name__)
CONNECTION_LABELS = ["connection_id", "project_id"]
#: traffic counters of a connection: (metric, direction) → its total
Traffic = Mapping[str, Mapping[tuple[str, str], int]]


class DatabaseCollector(Collector):
    """What :mod:`vpnaas.metrics` reads from ``db`` when scraped."""

    def __init__(self, db: Database, schema: Schema) -> None:
        self.db = db
        self.conns = schema.table("ipsec_site_connection")
        self.agents = schema.table("agent")
        self.tunnels = schema.tunnels

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "vpnaas_database_up", "1 when the last scrape could read the database, else 0."
        )
        try:
            with self.db.read() as conn:
                families = [*self._connections(conn), *self._agents(conn)]
        except (sa.exc.SQLAlchemyError, errors.ApiError) as exc:
            LOG.warning("metrics: the database did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _connections(self, conn: sa.Connection) -> list[Any]:
        c = self.conns
        rows = conn.execute(sa.select(c.c.id, c.c.project_id, c.c.status).order_by(c.c.id)).all()
        by_status = GaugeMetricFamily(
            "vpnaas_ipsec_site_connections",
            "IPsec site connections, by status.",
            labels=["status"],
        )
        counts = dict.fromkeys(STATUSES, 0)
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        for status, count in counts.items():
            by_status.add_metric([status], count)
        tunnel_up = GaugeMetricFamily(
            "vpnaas_ipsec_site_connection_tunnel_up",
            "1 while the connection is ACTIVE (an established IKE SA with every child "
            "installed), else 0.",
            labels=CONNECTION_LABELS,
        )
        for row in rows:
            tunnel_up.add_metric([row.id, row.project_id], 1 if row.status == ACTIVE else 0)
        return [by_status, tunnel_up, *self._traffic(conn, rows)]

    def _traffic(self, conn: sa.Connection, rows: Sequence[Any]) -> list[Any]:
        totals = traffic_totals(conn, self.tunnels)
        labels = [*CONNECTION_LABELS, "direction"]
        families = {
            "bytes": CounterMetricFamily(
                "vpnaas_ipsec_site_connection_bytes",
                "Bytes through the tunnel, across rekeys, as its agent last reported.",
                labels=labels,
            ),
            "packets": CounterMetricFamily(
                "vpnaas_ipsec_site_connection_packets",
                "Packets through the tunnel, across rekeys, as its agent last reported.",
                labels=labels,
            ),
        }
        for row in rows:
            for (metric, direction), value in totals.get(row.id, {}).items():
                families[metric].add_metric([row.id, row.project_id, direction], value)
        return list(families.values())

    def _agents(self, conn: sa.Connection) -> list[Any]:
        a = self.agents
        rows = conn.execute(
            sa.select(a.c.host, a.c.alive, a.c.heartbeat_timestamp).order_by(a.c.host)
        )
        alive = GaugeMetricFamily(
            "vpnaas_agent_alive",
            "1 while the agent reports within agent_down_time, else 0.",
            labels=["host"],
        )
        heartbeat = GaugeMetricFamily(
            "vpnaas_agent_last_heartbeat_timestamp_seconds",
            "When the agent last reported (Unix time).",
            labels=["host"],
        )
        for row in rows:
            alive.add_metric([row.host], 1 if row.alive else 0)
            if row.heartbeat_timestamp:
                heartbeat.add_metric([row.host], _unix(row.heartbeat_timestamp))
        return [alive, heartbeat]


def traffic_totals(conn: sa.Connection, tunnels: sa.Table) -> Traffic:
    """Each reported connection's traffic totals, across rekeys, from the
    counters its tunnel row keeps (:mod:`vpnaas.db.tunnels`)."""
    found: dict[str, dict[tuple[str, str], int]] = {}
    for conn_id, counters in conn.execute(sa.select(tunnels.c.connection_id, tunnels.c.counters)):
        traffic = found[conn_id] = {}
        for name, value in totals(orjson.loads(counters)).items():
            metric, _, direction = name.partition("_")  # bytes_in → (bytes, in)
            traffic[(metric, direction)] = value
    return found


def _unix(stamp: str) -> float:
    return float(calendar.timegm(time.strptime(stamp, TIMESTAMP_FORMAT)))
