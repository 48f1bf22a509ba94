"""What the server has accepted of an agent's reports, so that a report
carries only the connections whose revision, status, reason or telemetry
(its times aside) changed since (docs/agent-protocol.md §reports). The
reports thread's own: nothing else reads or writes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from vpnaas.ipsec.telemetry import without_times

__all__ = ["Acks", "fingerprint"]


def fingerprint(entry: Mapping[str, Any]) -> object:
    """What of a report entry, once accepted, need not be sent again."""
    telemetry = orjson.dumps(without_times(entry["telemetry"]), option=orjson.OPT_SORT_KEYS)
    return entry["revision"], entry["status"], entry["reason"], telemetry


class Acks:
    """Per connection, the fingerprint of the entry the server accepted,
    from the charon (its start time) that entry spoke of."""

    def __init__(self) -> None:
        self._acked: dict[str, object] = {}
        self._since: object = None

    def unsent(
        self, since: object, entries: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Mapping[str, Any]]:
        """The entries the server has not accepted as they are; all of them
        when ``since`` (charon's start time) moved: another charon."""
        if since != self._since:
            self._acked.clear()
            self._since = since
        return {k: e for k, e in entries.items() if self._acked.get(k) != fingerprint(e)}

    def record(
        self,
        answer: Mapping[str, Any],
        entries: Mapping[str, Mapping[str, Any]],
        sent: Mapping[str, Mapping[str, Any]],
    ) -> bool:
        """Remember what the server accepted, forget what it calls stale or
        asks for again; True when it asked for one this report did not
        carry (e.g. set DOWN while the agent was away): report again."""
        for conn_id in answer.get("accepted") or ():
            if conn_id in sent:
                self._acked[conn_id] = fingerprint(sent[conn_id])
        resend = [k for k in answer.get("resend") or () if k in entries]
        for conn_id in [*(answer.get("stale") or ()), *resend]:
            self._acked.pop(conn_id, None)
        for conn_id in set(self._acked) - set(entries):
            del self._acked[conn_id]
        return any(k not in sent for k in resend)
