"""What charon's ``ike-updown`` and ``ike-rekey`` events say of each
group's IKE SAs, between two ``list-sas`` reads (docs/agent.md §Status).

charon sends ``ike-updown`` (down) as it gives an IKE SA up, then deletes
its children one by one: with hundreds of them, a ``list-sas`` read meanwhile
still shows most of them INSTALLED. So the down event itself ends the SA:
its unique id never counts again (:meth:`IkeLedger.read` drops it from every
later answer), and when no other IKE SA of its group is known up,
the group is *ended* at once, until a ``list-sas`` read begun after the
event says what the group has now. A rekey or a make-before-break reauth
sends its ``ike-rekey`` or ``ike-updown`` (up) for the new SA before the old
one goes down, and so ends nothing.

Thread-safe: the event thread records, the agent's loop reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpnaas.agent.status import CARRYING, INSTALLED
from vpnaas.spec.vpn import ACTIVE, DOWN

__all__ = ["IKE_REKEY", "IKE_UPDOWN", "Ended", "IkeLedger", "ended_entries"]

IKE_UPDOWN = "ike-updown"
IKE_REKEY = "ike-rekey"


@dataclass(frozen=True)
class Ended:
    """A group whose last established IKE SA went down: when, and the
    reason charon logged for it just before (None when it logged none, as
    when the peer deleted the SA)."""

    at: float
    reason: str | None


def _sections(message: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``{IKE SA name: SA}`` sections of an event message."""
    return [(str(k), v) for k, v in message.items() if isinstance(v, Mapping)]


def _key(sa: Mapping[str, Any]) -> str:
    """An IKE SA's identity: its unique id, which a restarted charon hands
    out again from 1, with its initiator SPI, which it does not."""
    return f"{sa.get('uniqueid')}/{sa.get('initiator-spi')}"


def _holds_children(sa: Mapping[str, Any]) -> bool:
    children = sa.get("child-sas") or {}
    return any(child.get("state") == INSTALLED for child in children.values())


class IkeLedger:
    """IKE SAs ended by events, established ones per group, ended groups."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        #: IKE SAs (:func:`_key`) a down event ended, with when
        self._gone: dict[str, float] = {}
        #: per group, its IKE SAs known to be up (carrying children),
        #: with when they were learnt
        self._up: dict[str, dict[str, float]] = {}
        self._ended: dict[str, Ended] = {}
        self._reasons: dict[str, str] = {}

    def reset(self) -> None:
        """charon restarted (or may have): its unique ids start again."""
        with self._lock:
            self._gone.clear()
            self._up.clear()
            self._ended.clear()
            self._reasons.clear()

    def note(self, group: str, reason: str) -> None:
        """The reason charon just logged for ``group`` (a silent peer comes
        a line before the down event)."""
        with self._lock:
            self._reasons[group] = reason

    def event(self, kind: str, message: Mapping[str, Any]) -> str | None:
        """Record one event; the name of the group it ended, or None."""
        if kind == IKE_REKEY:
            with self._lock:
                for name, sa in _sections(message):
                    new = sa.get("new")
                    if isinstance(new, Mapping):
                        self._up.setdefault(name, {})[_key(new)] = self._clock()
            return None
        if kind != IKE_UPDOWN:
            return None
        up = message.get("up") == "yes"
        ended = None
        with self._lock:
            for name, sa in _sections(message):
                key = _key(sa)
                known = self._up.setdefault(name, {})
                if up:
                    known[key] = self._clock()
                    self._ended.pop(name, None)
                    self._reasons.pop(name, None)
                    continue
                self._gone[key] = self._clock()
                known.pop(key, None)
                if not known:
                    self._ended[name] = Ended(self._clock(), self._reasons.pop(name, None))
                    ended = name
        return ended

    def read(
        self, sas: Sequence[Mapping[str, Any]] | None, began: float
    ) -> list[dict[str, Any]] | None:
        """A ``list-sas`` answer whose reading began at ``began`` (the
        clock's time), without the IKE SAs events ended; what it shows is
        the truth for every group ended before it began."""
        if sas is None:
            return None
        kept: list[dict[str, Any]] = []
        up: dict[str, dict[str, float]] = {}
        shown: set[str] = set()
        with self._lock:
            for entry in sas:
                for name, sa in entry.items():
                    key = _key(sa)
                    shown.add(key)
                    if key in self._gone:
                        continue
                    kept.append({name: sa})
                    if sa.get("state") in CARRYING and _holds_children(sa):
                        up.setdefault(name, {})[key] = began
            self._learn(began, shown, up)
        return kept

    def _learn(self, began: float, shown: set[str], up: dict[str, dict[str, float]]) -> None:
        """After a read begun at ``began`` that showed the IKE SAs ``shown``,
        of which ``up`` carry children. Under the lock."""
        for key, at in list(self._gone.items()):
            if at < began and key not in shown:  # charon is done with it
                del self._gone[key]
        for name, ended in list(self._ended.items()):
            if ended.at < began:
                del self._ended[name]
        for name, known in self._up.items():  # what came up since it began stays
            for key, at in known.items():
                if at >= began and key not in shown:
                    up.setdefault(name, {})[key] = at
        self._up = up

    def ended(self) -> dict[str, Ended]:
        """The groups ended by an event and not read since."""
        with self._lock:
            return dict(self._ended)


def ended_entries(
    entries: Mapping[str, dict[str, Any]],
    members: Mapping[str, list[tuple[str, str]]],
    ended: Mapping[str, Ended],
) -> dict[str, dict[str, Any]] | None:
    """``entries`` with the ACTIVE connections of the ``ended`` groups
    (``members``: each group's connections, with their reason when their
    group has no SA) DOWN, as if no SA of theirs were left; None when no
    entry changes. One already DOWN for the bare reason gets the reason
    charon logged, if it logged one: a status round that read its SAs
    before the event, and charon's log line only after, knows no better."""
    out = dict(entries)
    for name, end in ended.items():
        for conn_id, bare in members.get(name, ()):
            entry = out.get(conn_id)
            if entry is None:
                continue
            if entry["status"] == DOWN and end.reason and entry["reason"] == bare:
                out[conn_id] = {**entry, "reason": end.reason}
            if entry["status"] != ACTIVE:
                continue
            telemetry = {k: v for k, v in entry["telemetry"].items() if k != "ike_sa"}
            reason = end.reason or bare
            out[conn_id] = {**entry, "status": DOWN, "reason": reason,
                            "telemetry": {**telemetry, "child_sas": []}}  # fmt: skip
    return out if out != entries else None
