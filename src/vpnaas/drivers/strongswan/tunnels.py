"""The tunnel row of a connection, written while a report is applied or an
agent is declared dead (inside that write transaction): the latest SAs, the
traffic totals (:mod:`.telemetry`) and the status history.

The row is rewritten only when something in it changed, so idle tunnels
cost no write per heartbeat; a write bumps the ``tunnel`` write counter.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from vpnaas.db.tunnels import TUNNEL_MEMBER, load_tunnel, save_tunnel
from vpnaas.drivers.strongswan import telemetry
from vpnaas.hooks import RuleEnv

__all__ = ["ISO_FORMAT", "iso_stamp", "record_status", "record_telemetry"]

#: status changes and SA times: UTC, ISO 8601 with a ``Z``
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_stamp(now: datetime.datetime | None = None) -> str:
    return (now or datetime.datetime.now(datetime.UTC)).strftime(ISO_FORMAT)


def _row(env: RuleEnv, conn_id: str) -> tuple[dict[str, Any], bool]:
    found = load_tunnel(env.repo.conn, env.repo.schema.tunnels, conn_id)
    if found is not None:
        return found, True
    empty: dict[str, Any] = {
        "connection_id": conn_id,
        "host": None,
        "last_status_change": None,
        "sas": {},
        "counters": telemetry.empty_counters(),
        "history": [],
    }
    return empty, False


def _save(env: RuleEnv, row: dict[str, Any], before: dict[str, Any], exists: bool) -> None:
    if exists and row == before:
        return
    save_tunnel(env.repo.conn, env.repo.schema.tunnels, row, exists=exists)
    env.repo.touched.add(TUNNEL_MEMBER)


def _without_times(value: Any) -> Any:
    """``value`` without its ``*_at`` stamps (the agent derives them from
    charon's whole seconds, so they wobble by a second between reads)."""
    if isinstance(value, Mapping):
        return {k: _without_times(v) for k, v in value.items() if not k.endswith("_at")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def record_telemetry(
    env: RuleEnv, conn_id: str, host: str, since: str | None, sas: Mapping[str, Any]
) -> None:
    """Keep what ``host``'s charon (started at ``since``) shows of ``conn_id``."""
    before, exists = _row(env, conn_id)
    if _without_times(before["sas"]) == _without_times(sas):
        sas = before["sas"]  # the same SAs, counters and settings: keep the first stamps
    counters = telemetry.merge_counters(before["counters"], since, sas)
    rekey = telemetry.rekeyed_at(before["counters"], counters, sas)
    counters["last_rekey_at"] = rekey or before["counters"].get("last_rekey_at")
    row = {**before, "host": host, "sas": dict(sas), "counters": counters}
    _save(env, row, before, exists)


def record_status(env: RuleEnv, conn_id: str, at: str, status: str, reason: str | None) -> None:
    """Add a status change to the history of ``conn_id``."""
    before, exists = _row(env, conn_id)
    row = {
        **before,
        "last_status_change": at,
        "history": telemetry.add_history(before["history"], at, status, reason),
    }
    _save(env, row, before, exists)
