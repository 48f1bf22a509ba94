"""What a report's ``telemetry`` adds to a connection's tunnel row. Pure.

Traffic totals survive rekeys and agent restarts: each child SA is known by
the charon that holds it (its start time) and charon's unique id for it.
The row keeps the last counters of every live SA and the sum of those that
went away; an SA missing from a report is retired into that sum once, and
one seen again adds only what it grew by (docs/agent-protocol.md
§telemetry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "COUNTERS",
    "HISTORY_MAX",
    "TELEMETRY_MAX",
    "add_history",
    "empty_counters",
    "merge_counters",
    "rekeyed_at",
    "totals",
]

COUNTERS = ("bytes_in", "bytes_out", "packets_in", "packets_out")
#: status changes kept per connection
HISTORY_MAX = 50
#: the largest telemetry document accepted per connection, encoded
TELEMETRY_MAX = 16384


def empty_counters() -> dict[str, Any]:
    return {"retired": dict.fromkeys(COUNTERS, 0), "live": {}, "children": {}, "ike": None}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _key(since: str | None, uniqueid: Any) -> str:
    return f"{since or '?'}/{uniqueid}"


def _live_children(sas: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    children = sas.get("child_sas")
    if not isinstance(children, list):
        return []
    return [c for c in children if isinstance(c, Mapping) and c.get("uniqueid") is not None]


def merge_counters(
    state: Mapping[str, Any], since: str | None, sas: Mapping[str, Any]
) -> dict[str, Any]:
    """``state`` after a report whose charon started at ``since`` showed ``sas``."""
    retired = dict(state["retired"])
    live: dict[str, dict[str, int]] = {}
    old_live: Mapping[str, Mapping[str, int]] = state["live"]
    for child in _live_children(sas):
        key = _key(since, child["uniqueid"])
        now = {name: _count(child.get(name)) for name in COUNTERS}
        before = old_live.get(key)
        if before is not None and any(now[n] < before[n] for n in COUNTERS):
            # counters never go down: this is another SA under a reused id
            for name in COUNTERS:
                retired[name] += before[name]
        live[key] = now
    for key, last in old_live.items():
        if key not in live:
            for name in COUNTERS:
                retired[name] += last[name]
    ike = sas.get("ike_sa") if isinstance(sas.get("ike_sa"), Mapping) else None
    return {
        "retired": retired,
        "live": live,
        "children": {str(c.get("name")): _key(since, c["uniqueid"]) for c in _live_children(sas)},
        "ike": _key(since, ike.get("uniqueid")) if ike else None,
    }


def totals(state: Mapping[str, Any]) -> dict[str, int]:
    """Cumulative bytes and packets: the retired SAs' and the live ones'."""
    out = {name: int(state["retired"][name]) for name in COUNTERS}
    for last in state["live"].values():
        for name in COUNTERS:
            out[name] += int(last[name])
    return out


def _same_charon(a: str, b: str) -> bool:
    return a.split("/", 1)[0] == b.split("/", 1)[0]


def _replaced(old: Any, new: Any, stamp: Any) -> bool:
    """An SA key ``old`` replaced by ``new`` in the same charon, which
    gave the new one's start ``stamp``."""
    return bool(old and new and old != new and _same_charon(old, new) and isinstance(stamp, str))


def rekeyed_at(
    before: Mapping[str, Any], after: Mapping[str, Any], sas: Mapping[str, Any]
) -> str | None:
    """When an SA live in the previous report was replaced by a new one of
    the same name (the same charon): the new SA's start; else None."""
    found: list[str] = []
    ike = sas.get("ike_sa") if isinstance(sas.get("ike_sa"), Mapping) else None
    if ike and _replaced(before.get("ike"), after["ike"], ike.get("established_at")):
        found.append(ike["established_at"])
    for child in _live_children(sas):
        name = str(child.get("name"))
        old, new = before.get("children", {}).get(name), after["children"].get(name)
        if _replaced(old, new, child.get("installed_at")):
            found.append(child["installed_at"])
    return max(found) if found else None


def add_history(
    history: list[dict[str, Any]], at: str, status: str, reason: str | None
) -> list[dict[str, Any]]:
    """``history`` with one more status change, the newest first, at most
    :data:`HISTORY_MAX` long."""
    return [{"at": at, "status": status, "reason": reason}, *history][:HISTORY_MAX]
