"""The agent's loop: desired state in, charon reconciled, status out.

Threads: one long-polls the server for the desired state, one listens to
charon's events, one posts reports; the loop itself is the only one that
changes charon or the routes. It wakes on a new desired state, on an
event, and every half second; it reconciles fully on a new desired state
(paced by :class:`~vpnaas.agent.pacing.Pacing`: a burst of creates costs
a few reloads, not one per create), when charon's session was lost or charon restarted,
and every ``resync_interval`` seconds; it reports at once when a status
changed and every ``report_interval`` seconds as a heartbeat.

A report carries only the connections whose revision, status, reason or
telemetry (its times aside) changed since the server last accepted them,
all of them after a start or a charon restart, and those the server asks
for again (docs/agent-protocol.md §reports).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpnaas.agent.acks import Acks
from vpnaas.agent.charon import since_utc
from vpnaas.agent.charonconf import read_retransmit
from vpnaas.agent.client import ServerClient, ServerUnavailable
from vpnaas.agent.events import CHILD_UPDOWN, LOG_EVENT, EventListener
from vpnaas.agent.initiate import Initiator, Outcome
from vpnaas.agent.ledger import IKE_REKEY, IKE_UPDOWN, IkeLedger, ended_entries
from vpnaas.agent.pacing import TICK, Pacing
from vpnaas.agent.reconcile import Reconciler
from vpnaas.agent.routes import Routes
from vpnaas.agent.status import (
    CONNECTING,
    PEER_NOT_RESPONDING,
    WAITING,
    ConnStatus,
    logged_reason,
    refused_peer,
    refused_selectors,
)
from vpnaas.ipsec.desired import DesiredState, parse_state
from vpnaas.ipsec.translate import START_ACTIONS, start_action
from vpnaas.spec.vpn import ACTIVE

__all__ = ["Agent", "AgentOptions"]

LOG = logging.getLogger(__name__)

POLL_WAIT = 30
BINARY = "vpnaas-agent"
#: changes seen within this long of the first go in one report
COALESCE = 0.05


_GONE = ConnStatus(ACTIVE)  # a connection no longer wanted is not reported at all


@dataclass(frozen=True)
class AgentOptions:
    """How one agent runs (from :class:`vpnaas.settings.agent.AgentSettings`)."""

    host: str
    routers: tuple[str, ...]
    vici_socket: str
    netns: str | None = None
    report_interval: float = 10.0
    resync_interval: float = 30.0
    strongswan_conf: str | None = None


class Agent:
    """One gateway's agent; :meth:`run` until :meth:`stop`."""

    def __init__(self, options: AgentOptions, client: ServerClient) -> None:
        self.options = options
        self.client = client
        conf = (
            options.strongswan_conf or os.environ.get("STRONGSWAN_CONF") or "/etc/strongswan.conf"
        )
        self.reconciler = Reconciler(
            options.vici_socket, Routes(options.netns), read_retransmit(conf)
        )
        self.initiator = Initiator(options.vici_socket, self._initiated)
        self.events = EventListener(options.vici_socket, self._event)
        self.ledger = IkeLedger()
        #: each group's connections, with their reason when it has no SA
        self._members: tuple[str | None, dict[str, list[tuple[str, str]]]] = (None, {})
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pending: DesiredState | None = None
        self.pacing = Pacing()
        self._outcomes: list[Outcome] = []
        self._logged: list[tuple[str, str]] = []
        self._resync = True
        self._report: dict[str, Any] | None = None
        self._entries: dict[str, dict[str, Any]] = {}
        self._report_ready = threading.Event()
        self._acks = Acks()  # the reports thread's own
        self._last_key: object = None
        self._last_full = 0.0

    # --- callbacks from other threads ------------------------------------------

    def _event(self, kind: str, message: Mapping[str, Any]) -> None:
        if kind == LOG_EVENT:  # most lines say nothing about a failure: no wake-up
            peer = refused_peer(message)
            if peer is not None:  # it wants an SA: once we have its group, we start it
                self.initiator.refused(peer)
                return
            asked = refused_selectors(message)
            if asked is not None:  # likewise for a child
                self.initiator.asked(*asked)
                return
            found = logged_reason(message)
            if found is None:
                return
            if found[1] == PEER_NOT_RESPONDING:
                self.ledger.note(*found)
            with self._lock:
                self._logged.append(found)
        elif kind == CHILD_UPDOWN and message.get("up") == "yes":
            with self._lock:
                self.pacing.ups += 1
        elif kind in (IKE_UPDOWN, IKE_REKEY):
            ended = self.ledger.event(kind, message)
            if ended is not None:
                self._end(ended)
        elif kind.startswith("session-"):  # charon may have restarted
            self.ledger.reset()
            with self._lock:
                self._resync = True
        self._wake.set()

    def _end(self, group: str) -> None:
        """The last IKE SA of ``group`` went down: its connections are
        reported DOWN now, not once charon has deleted its children
        (docs/agent.md §Status)."""
        ended = {k: v for k, v in self.ledger.ended().items() if k == group}
        with self._lock:
            entries = ended_entries(self._entries, self._members[1], ended)
            if entries is None:
                return
            self._entries = entries
        LOG.info("IKE SA of %s down: its connections are DOWN", group)
        self._report_ready.set()

    def _initiated(self, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes.append(outcome)
        self._wake.set()

    def offer(self, desired: DesiredState) -> None:
        """Hand the loop a new desired state (the poller does; tests may)."""
        now = time.monotonic()
        starts = any(start_action(conn) == "start" for conn in desired.connections)
        with self._lock:
            self.pacing.offer(now, self._pending is None, starts)
            self._pending = desired
        self._wake.set()

    @property
    def reporting(self) -> frozenset[str]:
        """The connections the agent's reports speak of now."""
        with self._lock:
            return frozenset(self._entries)

    def _settled(self, now: float) -> float:
        """0 when the pending desired state may be applied, else the seconds
        until it may (more may come meanwhile). Under the lock."""
        if self._pending is None or self.reconciler.desired is None:
            return 0.0
        return self.pacing.due_in(now)

    def _next_wait(self, now: float) -> float:
        """How long the loop may sleep: until the pending desired state is
        due (not at all when it is), else a :data:`TICK`. Under the lock."""
        if self._pending is None:
            return TICK
        return self._settled(now)

    # --- threads -------------------------------------------------------------------

    def run(self) -> None:
        """Run until :meth:`stop` (SIGTERM): charon and its SAs are left as
        they are, so a restarted agent finds them up."""
        threads = [
            threading.Thread(target=self._poll, name="state-poll", daemon=True),
            threading.Thread(target=self._post_reports, name="reports", daemon=True),
        ]
        self.events.start()
        for thread in threads:
            thread.start()
        while not self._stop.is_set():
            began = time.monotonic()
            self.step()
            # a rest a few times as long before the next round, however
            # many events come: while charon brings hundreds of children up,
            # rounds woken by each event took the CPU it needed (a group's
            # DOWN does not wait: the event thread reports it); a desired
            # state that becomes due meanwhile, or the last connections
            # coming up, end it
            rest_until = time.monotonic() + self.pacing.rest(time.monotonic() - began)
            while not self._stop.wait(min(0.05, max(0.0, rest_until - time.monotonic()))):
                with self._lock:
                    due = self._pending is not None and not self._settled(time.monotonic())
                    due = due or self.pacing.rest_over()
                if due or time.monotonic() >= rest_until:
                    break
            with self._lock:
                wait = self._next_wait(time.monotonic())
            self._wake.wait(min(wait, self.initiator.due_in(time.monotonic(), TICK)))
            self._wake.clear()
        self.events.stop()
        self.initiator.join(5.0)
        self.events.join(5.0)
        self.reconciler.drop_session()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._report_ready.set()

    def _poll(self) -> None:
        known: str | None = None
        while not self._stop.is_set():
            try:
                doc = self.client.state(self.options.host, self.options.routers, known, POLL_WAIT)
            except ServerUnavailable as exc:
                LOG.warning("desired state not fetched: %s", exc)
                self._stop.wait(1.0)
                continue
            if doc is not None:
                desired = parse_state(doc)
                known = desired.revision
                LOG.info("desired state %s: %d connections", known, len(desired.connections))
                self.offer(desired)

    def _post_reports(self) -> None:
        while not self._stop.is_set():
            if self._report_ready.wait(self.options.report_interval):
                self._stop.wait(COALESCE)
            self._report_ready.clear()
            with self._lock:
                report, entries = self._report, self._entries
            if report is None or self._stop.is_set():
                continue
            sent = self._acks.unsent(report["configurations"]["charon_since"], entries)
            try:
                answer = self.client.report({**report, "connections": list(sent.values())})
            except ServerUnavailable as exc:
                LOG.warning("report not delivered: %s", exc)
                self._stop.wait(1.0)
                self._report_ready.set()
                continue
            if answer.get("stale"):
                LOG.info("stale in report: %s", answer.get("stale"))
            if self._acks.record(answer, entries, sent):
                self._report_ready.set()

    # --- the loop --------------------------------------------------------------------

    def step(self) -> None:
        """One turn: reconcile if due, bring up what is missing, report."""
        with self._lock:
            pending = None if self._settled(time.monotonic()) else self._pending
            if pending is not None:
                self._pending = None
            outcomes, self._outcomes = self._outcomes, []
            resync, self._resync = self._resync, False
        rec = self.reconciler
        for outcome in outcomes:
            rec.record(outcome)
        self._apply_logged()
        desired = pending or rec.desired
        now = time.monotonic()
        restarts = rec.restarts
        if desired is not None and (
            pending or resync or now - self._last_full >= self.options.resync_interval
        ):
            rec.apply(desired)
            self._last_full = now
        sas = self._list_sas()
        if rec.restarts != restarts and desired is not None:  # charon restarted meanwhile
            self.ledger.reset()
            rec.apply(desired)
            sas = self._list_sas()
        self._apply_logged()  # a down event the read saw follows its reason's log line
        statuses = rec.statuses(sas) if desired is not None else {}
        with self._lock:
            self.pacing.connecting = sum(st.reason == CONNECTING for st in statuses.values())
        if self._went_down(statuses):  # before the routes, which may take a while
            self._publish(statuses)
        if sas is not None and rec.charon is not None and desired is not None:
            rec.sync_tunnel_routes(sas)
            self.initiator.check(desired.groups(), sas, rec.charon)
        self._publish(statuses)

    def _apply_logged(self) -> None:
        """Hand the reconciler the reasons charon logged since the last call."""
        with self._lock:
            logged, self._logged = self._logged, []
        for group, reason in logged:
            self.reconciler.logged(group, reason)

    def _list_sas(self) -> list[dict[str, Any]] | None:
        """``list-sas``, without the IKE SAs charon's events ended."""
        with self._lock:
            self.pacing.ups = 0  # counted again from this read on
        began = time.monotonic()
        return self.ledger.read(self.reconciler.list_sas(), began)

    def _went_down(self, statuses: Mapping[str, ConnStatus]) -> bool:
        """Whether a connection reported ACTIVE is no longer: that is told
        at once; an ACTIVE waits for its routes."""
        with self._lock:
            before = self._entries
        return any(
            entry["status"] == ACTIVE and statuses.get(conn_id, _GONE).status != ACTIVE
            for conn_id, entry in before.items()
        )

    def _group_members(self, desired: DesiredState | None) -> dict[str, list[tuple[str, str]]]:
        """Each group's connections, with their reason when the group has
        no SA; kept for :meth:`_end` (the event thread)."""
        revision = desired.revision if desired is not None else None
        if self._members[0] != revision:
            members: dict[str, list[tuple[str, str]]] = {}
            for group in desired.groups() if desired is not None else ():
                members[group.name] = [
                    (c.id, WAITING if START_ACTIONS[c.initiator] == "none" else CONNECTING)
                    for c in group.connections
                ]
            with self._lock:
                self._members = (revision, members)
        return self._members[1]

    def _publish(self, statuses: Mapping[str, ConnStatus]) -> None:
        rec = self.reconciler
        revisions = {c.id: c.revision for c in rec.desired.connections} if rec.desired else {}
        members = self._group_members(rec.desired)
        connections = [
            {
                "id": conn_id,
                "revision": revisions[conn_id],
                "status": st.status,
                "reason": st.reason,
                "telemetry": dict(st.telemetry),
            }
            for conn_id, st in sorted(statuses.items())
        ]
        report: dict[str, Any] = {
            "host": self.options.host,
            "binary": BINARY,
            "routers": list(self.options.routers),
            "configurations": {
                "routers": len(self.options.routers),
                "connections": len(connections),
                "vici_socket": self.options.vici_socket,
                "netns": self.options.netns,
                "charon_since": since_utc(rec.since),
            },
        }
        entries = {str(c["id"]): c for c in connections}
        with self._lock:  # an SA an event ended while the statuses were read
            entries = ended_entries(entries, members, self.ledger.ended()) or entries
            self._report = report
            self._entries = entries
        key = [(k, c["revision"], str(c["status"]), c["reason"]) for k, c in entries.items()]
        if key != self._last_key:
            self._last_key = key
            LOG.info("status: %s", ", ".join(f"{c[0][:8]} {c[2]}" for c in key) or "no connections")
            self._report_ready.set()
