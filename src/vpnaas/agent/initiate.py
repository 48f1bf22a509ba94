"""Bring up what should be up: initiate bi-directional connections that
have no SA, one peer at a time, and end duplicate IKE SAs.

charon initiates a ``start_action = start`` child itself when it is loaded;
this covers the rest (the peer deleted the SA, an attempt failed, a psk
change ended the SA). A group is initiated only after it has been without
an SA for a short, jittered grace time (started again while its missing
children keep coming up: charon is still starting them itself), longer on
the gateway that does not start at load (so both sides rarely start at
once), never while charon already works on it (a CONNECTING IKE SA, a
child being installed), at most one initiation per peer address at a
time, and with a growing pause after failures. Each initiation runs on a
thread of its own with its own VICI session: it waits for the first
missing child (the IKE SA comes up with it, or the failure reason is read
from charon's log lines) and then queues the others without waiting; its
outcome is handed to ``on_done``.

What the peer asked for and was refused (charon's log, passed on by the
events thread: :meth:`Initiator.refused`, :meth:`Initiator.asked`) is
started as soon as this gateway has it: those children at once, a refused
IKE SA a moment later. With the IKE SA up, the gateway that does not start
at load queues all its missing children after :data:`UP_GRACE`, paced by a
pause that doubles while none come up (docs/agent.md §Reconciling).

When both sides initiated at once, two IKE SAs exist; both agents keep the
one with the smallest initiator SPI, and each ends only the ones it
initiated, so they never end the same SA twice. Two IKE SAs also exist
during a make-before-break reauthentication, which ends the old one itself
once the new one holds every child: so only SAs started by both sides
count as duplicates, and only while charon has no task queued or running
on any SA of the group.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vpnaas.agent.charon import Charon, CharonUnavailable
from vpnaas.agent.status import (
    CONNECTING,
    ESTABLISHED,
    IKE_CONNECTING,
    INSTALLED,
    Selectors,
    failure_reason,
    group_sas,
    selectors,
)
from vpnaas.ipsec.desired import Group
from vpnaas.ipsec.translate import START_ACTIONS, child_names, child_pairs, start_action

__all__ = ["Initiator"]

LOG = logging.getLogger(__name__)

#: child states that mean charon has (or is making) that child
_LIVE_CHILD = frozenset({INSTALLED, "CREATED", "INSTALLING", "UPDATING", "REKEYING", "REKEYED"})
MAX_BACKOFF = 30.0
#: the grace time on the gateway that does not start at load while the
#: group's IKE SA is up (see :meth:`Initiator._grace`)
UP_GRACE = 0.2
#: how long a peer's refused attempt (an IKE SA, a child) counts as a wish
ASKED = 60.0
#: at most this many refused children are remembered per group
MAX_ASKED = 10000
#: VICI ``initiate`` timeout that returns once charon has queued the child
QUEUE = -1

Outcome = dict[str, str | None]


def _address(value: str) -> str:
    """An address in one spelling (charon's log and the API's may differ)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


class Initiator:
    """Decides and runs initiations; :meth:`check` is called by the loop."""

    def __init__(
        self,
        vici_uri: str,
        on_done: Callable[[Outcome], None],
        *,
        grace: float = 1.0,
        wait_ms: int = 15000,
        connect: Callable[[str], Charon] = Charon,
    ) -> None:
        self.vici_uri = vici_uri
        self.on_done = on_done
        self.grace = grace
        self.wait_ms = wait_ms
        self._connect = connect
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._missing_since: dict[str, float] = {}
        self._next_try: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._progress: dict[str, int] = {}  # children missing at the last check, per group
        self._threads: list[threading.Thread] = []
        self._refused: dict[str, float] = {}  # peer address -> when we last refused it
        self._asked: dict[str, dict[Selectors, float]] = {}  # group -> refused children
        self._queued: dict[str, int] = {}  # children missing when all were last queued

    def refused(self, peer: str) -> None:
        """The peer at ``peer`` tried to start an IKE SA while this gateway
        had no configuration for it (the events thread calls this): once
        this side has that group, it starts it without a grace time."""
        self._refused[_address(peer)] = time.monotonic()

    def asked(self, group: str, key: Selectors) -> None:
        """The peer asked for a child of ``group`` with the selectors
        ``key`` that this gateway had no configuration for (the events
        thread calls this): once it has, it starts that child at once."""
        with self._lock:
            asked = self._asked.setdefault(group, {})
            if len(asked) < MAX_ASKED:
                asked[key] = time.monotonic()

    def check(
        self, groups: Sequence[Group], sas: Sequence[Mapping[str, Any]], charon: Charon
    ) -> None:
        """Look at every group once: end duplicates, start what is missing."""
        now = time.monotonic()
        for group in groups:
            mine = group_sas(sas, group.name)
            self._dedupe(charon, mine)
            missing = []
            if group.enabled and START_ACTIONS[group.first.initiator] != "none":
                missing = self._missing(group, mine)
            if not missing:
                for memo in (self._missing_since, self._backoff, self._progress, self._queued):
                    memo.pop(group.name, None)
            elif not any(ike.get("state") == IKE_CONNECTING for ike in mine):
                established = any(ike.get("state") == ESTABLISHED for ike in mine)
                self._bring_up(group, missing, established, now)

    def due_in(self, now: float, longest: float) -> float:
        """Seconds until the next grace time ends (at most ``longest``): the
        loop looks again then, not at its next tick."""
        ahead = [at - now for at in self._missing_since.values() if at > now]
        return min([*ahead, longest])

    def _bring_up(
        self, group: Group, missing: list[tuple[str, str]], established: bool, now: float
    ) -> None:
        """Start what ``group`` misses, when it is time to."""
        asked = self._asked_for(group, missing, now)
        if asked and established:
            # children the peer asked for before we had them: it has
            # them and waits for us (its charon does not ask again)
            if self._start(group, [(conn_id, name) for conn_id, name, _ in asked], wait=False):
                with self._lock:
                    for *_, key in asked:
                        self._asked[group.name].pop(key, None)
            return
        grace = self._grace(group, established)
        if len(missing) < self._progress.get(group.name, len(missing) + 1):
            # charon is still bringing up children itself (hundreds at
            # load): racing it with initiations of the same children
            # slows both; the grace time starts again
            self._missing_since[group.name] = now + grace
        self._progress[group.name] = len(missing)
        if now - self._refused.pop(_address(group.first.peer_address), -ASKED) < ASKED:
            # the peer tried to start an IKE SA before we had the group:
            # it has it and is waiting (its charon does not try again);
            # a moment later, unless a reload on the peer started one
            self._missing_since[group.name] = now + random.uniform(0.3, 0.5)  # noqa: S311
            self._next_try.pop(group.name, None)
        if now < self._missing_since.setdefault(group.name, now + grace):
            return
        if now < self._next_try.get(group.name, 0.0):
            return
        if established and self._second(group):
            self._queue_all(group, missing, now)
        else:
            self._start(group, missing)

    def _queue_all(self, group: Group, missing: list[tuple[str, str]], now: float) -> None:
        """Queue every missing child at once (the IKE SA is up, this is the
        gateway that does not start at load): waiting for one the peer
        lacks yet (its charon starts those as it loads them) would hold up
        the rest. Nothing tells whether they came up: while a run brings
        none up, the pause before the next one doubles."""
        last = self._queued.get(group.name)
        pause = UP_GRACE
        if last is not None and len(missing) >= last:
            pause = min(self._backoff.get(group.name, UP_GRACE) * 2, MAX_BACKOFF)
        if self._start(group, missing, wait=False):
            self._queued[group.name] = len(missing)
            self._backoff[group.name] = pause
            self._next_try[group.name] = now + pause

    @staticmethod
    def _second(group: Group) -> bool:
        """Whether this is the gateway that does not start ``group`` at load."""
        return start_action(group.first) != "start"

    def _grace(self, group: Group, established: bool) -> float:
        """How long a missing SA is left to charon and the peer: the grace
        time, jittered; two and a half times as long on the gateway that
        does not start at load, so the two sides seldom start an IKE SA at
        once; but only :data:`UP_GRACE` there once the IKE SA is up (a child
        it loaded after the peer did comes up only when it starts it: the
        peer's charon tried once, at its own load)."""
        if established and self._second(group):
            return UP_GRACE + random.uniform(0, UP_GRACE / 2)  # noqa: S311
        first = not self._second(group)
        return self.grace * (1.0 if first else 2.5) + random.uniform(0, self.grace / 2)  # noqa: S311

    def _asked_for(
        self, group: Group, missing: list[tuple[str, str]], now: float
    ) -> list[tuple[str, str, Selectors]]:
        """The missing children of ``group`` the peer asked for and this
        gateway refused, not too long ago."""
        with self._lock:
            asked = self._asked.get(group.name, {})
            for key, at in list(asked.items()):
                if now - at > ASKED:
                    del asked[key]
            if not asked:
                return []
            keys = set(asked)
        wanted = {name for _, name in missing}
        found = []
        for conn in group.enabled:
            for name, pair in zip(child_names(conn), child_pairs(conn), strict=True):
                key = selectors(*pair)
                if name in wanted and key in keys:
                    found.append((conn.id, name, key))
        return found

    @staticmethod
    def _missing(group: Group, sas: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
        live: set[str] = set()
        for ike in sas:
            if ike.get("state") not in (ESTABLISHED, IKE_CONNECTING):
                continue
            for child in (ike.get("child-sas") or {}).values():
                if child.get("state") in _LIVE_CHILD:
                    live.add(str(child.get("name")))
        return [(c.id, name) for c in group.enabled for name in child_names(c) if name not in live]

    @staticmethod
    def _dedupe(charon: Charon, sas: Sequence[Mapping[str, Any]]) -> None:
        established = [ike for ike in sas if ike.get("state") == ESTABLISHED]
        if len({ike.get("initiator") for ike in established}) < 2:
            return  # one SA, or a reauthentication's two (from the same side)
        if any(ike.get(key) for ike in sas for key in ("tasks-queued", "tasks-active")):
            return  # a reauthentication, a rekey or children under way
        keep = min(established, key=lambda ike: str(ike.get("initiator-spi")))
        for ike in established:
            if ike is not keep and ike.get("initiator") == "yes":
                LOG.info("ending duplicate IKE SA #%s", ike.get("uniqueid"))
                charon.terminate(ike_id=str(ike.get("uniqueid")))

    def _start(self, group: Group, missing: list[tuple[str, str]], *, wait: bool = True) -> bool:
        """Initiate ``missing`` on a thread of its own, unless one runs for
        the same peer; ``wait`` for the first as :meth:`_run` says."""
        peer = group.first.peer_address
        with self._lock:
            if peer in self._busy:
                return False
            self._busy.add(peer)
        self._missing_since.pop(group.name, None)
        thread = threading.Thread(
            target=self._run,
            args=(group.name, peer, missing, wait),
            name=f"initiate-{group.name}",
            daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()
        return True

    def _run(self, name: str, peer: str, missing: list[tuple[str, str]], wait: bool = True) -> None:
        """Wait for the first of ``missing``, then queue the others; queue
        them all without waiting when not ``wait`` (the IKE SA is up)."""
        outcome: Outcome = {}
        try:
            with self._connect(self.vici_uri) as charon:
                if not wait:
                    for conn_id, child in missing:
                        charon.initiate(name, child, QUEUE)
                        outcome[conn_id] = None
                    LOG.info("queued %d children of %s", len(missing), name)
                    return
                conn_id, child = missing[0]
                LOG.info("initiating %s child %s (%d missing)", name, child, len(missing))
                result = charon.initiate(name, child, self.wait_ms)
                if not result.ok:
                    logs = (*result.logs, result.error or "")
                    outcome[conn_id] = failure_reason(logs) or CONNECTING
                    LOG.info("initiating %s failed: %s", child, outcome[conn_id])
                    return
                outcome[conn_id] = None
                for conn_id, child in missing[1:]:
                    # the IKE SA is up: charon queues the other children's
                    # exchanges on it; waiting for each would add a VICI round
                    # trip and a log stream per child (docs/agent.md §Reconciling)
                    charon.initiate(name, child, QUEUE)
                    outcome.setdefault(conn_id, None)
        except CharonUnavailable as exc:
            LOG.warning("initiating %s: %s", name, exc)
        finally:
            failed = any(reason is not None for reason in outcome.values()) or not outcome
            with self._lock:
                self._busy.discard(peer)
                if wait:  # queued runs are paced by :meth:`_queue_all`
                    pause = min(self._backoff.get(name, 0.5) * 2, MAX_BACKOFF) if failed else 0.0
                    self._backoff[name] = max(pause, 0.5)
                    self._next_try[name] = time.monotonic() + pause
            self.on_done(outcome)

    def join(self, timeout: float) -> None:
        """Wait for running initiations (at shutdown)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
