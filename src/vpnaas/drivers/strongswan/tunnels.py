"""The tunnel row of a connection, written while a report is applied or an
agent is declared dead (inside that write transaction): the latest SAs, the
traffic totals (:mod:`.telemetry`) and the status history.

The row is rewritten only when something in it changed, so idle tunnels
cost no write per heartbeat; a write bumps the ``tunnel`` write counter.
Rows are read and written by the batch (:class:`TunnelRows`): a report
names hundreds of connections.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from vpnaas.db.tunnels import TUNNEL_MEMBER, load_tunnels, save_tunnels
from vpnaas.drivers.strongswan import telemetry
from vpnaas.hooks import RuleEnv
from vpnaas.ipsec.telemetry import without_times

__all__ = ["ISO_FORMAT", "TunnelRows", "iso_stamp"]

#: status changes and SA times: UTC, ISO 8601 with a ``Z``
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_stamp(now: datetime.datetime | None = None) -> str:
    return (now or datetime.datetime.now(datetime.UTC)).strftime(ISO_FORMAT)


def _empty(conn_id: str) -> dict[str, Any]:
    return {
        "connection_id": conn_id,
        "host": None,
        "last_status_change": None,
        "sas": {},
        "counters": telemetry.empty_counters(),
        "history": [],
    }


class TunnelRows:
    """The tunnel rows of some connections: read in one query, changed in
    memory, written back by :meth:`flush` in one statement per kind (new,
    changed), so a report of hundreds of connections costs a few
    statements, and one that changes nothing costs no write."""

    def __init__(self, env: RuleEnv, ids: Iterable[str]) -> None:
        self.env = env
        self.table = env.repo.schema.tunnels
        self.stored = load_tunnels(env.repo.conn, self.table, sorted(set(ids)))
        self.rows: dict[str, dict[str, Any]] = {}

    def _row(self, conn_id: str) -> dict[str, Any]:
        row = self.rows.get(conn_id)
        if row is None:
            row = self.rows[conn_id] = dict(self.stored.get(conn_id) or _empty(conn_id))
        return row

    def telemetry(self, conn_id: str, host: str, since: str | None, sas: Mapping[str, Any]) -> None:
        """Keep what ``host``'s charon (started at ``since``) shows of ``conn_id``."""
        row = self._row(conn_id)
        if without_times(row["sas"]) == without_times(sas):
            sas = row["sas"]  # the same SAs, counters and settings: keep the first stamps
        counters = telemetry.merge_counters(row["counters"], since, sas)
        rekey = telemetry.rekeyed_at(row["counters"], counters, sas)
        counters["last_rekey_at"] = rekey or row["counters"].get("last_rekey_at")
        row.update(host=host, sas=dict(sas), counters=counters)

    def status(self, conn_id: str, at: str, status: str, reason: str | None) -> None:
        """Add a status change to the history of ``conn_id``."""
        row = self._row(conn_id)
        row["last_status_change"] = at
        row["history"] = telemetry.add_history(row["history"], at, status, reason)

    def flush(self) -> None:
        new = [row for key, row in self.rows.items() if key not in self.stored]
        changed = [
            row for key, row in self.rows.items() if key in self.stored and row != self.stored[key]
        ]
        if new or changed:
            save_tunnels(self.env.repo.conn, self.table, new, changed)
            self.env.repo.touched.add(TUNNEL_MEMBER)
        self.stored.update((row["connection_id"], row) for row in new + changed)
        self.rows.clear()
