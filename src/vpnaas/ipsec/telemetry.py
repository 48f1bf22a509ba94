"""What both sides read of a report's telemetry (docs/agent-protocol.md
§telemetry). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["without_times"]


def without_times(value: Any) -> Any:
    """``value`` without its ``*_at`` stamps: the agent makes them from
    charon's whole seconds ago, so they move by a second between two reads
    of the same SA, which is no change (the agent need not report it, the
    server need not store it)."""
    if isinstance(value, Mapping):
        return {k: without_times(v) for k, v in value.items() if not k.endswith("_at")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value
