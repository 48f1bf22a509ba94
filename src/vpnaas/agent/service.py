"""The agent's loop: desired state in, charon reconciled, status out.

Threads: one long-polls the server for the desired state, one listens to
charon's events, one posts reports; the loop itself is the only one that
changes charon or the routes. It wakes on a new desired state, on an
event, and every half second; it reconciles fully on a new desired state,
when charon's session was lost or charon restarted, and every
``resync_interval`` seconds; it reports at once when a status changed and
every ``report_interval`` seconds as a heartbeat.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpnaas.agent.charon import since_utc
from vpnaas.agent.charonconf import read_retransmit
from vpnaas.agent.client import ServerClient, ServerUnavailable
from vpnaas.agent.events import LOG_EVENT, EventListener
from vpnaas.agent.initiate import Initiator, Outcome
from vpnaas.agent.reconcile import Reconciler
from vpnaas.agent.routes import Routes
from vpnaas.agent.status import ConnStatus, logged_reason
from vpnaas.ipsec.desired import DesiredState, parse_state

__all__ = ["Agent", "AgentOptions"]

LOG = logging.getLogger(__name__)

TICK = 0.5
POLL_WAIT = 30
BINARY = "vpnaas-agent"


@dataclass(frozen=True)
class AgentOptions:
    """How one agent runs (from :class:`vpnaas.settings.AgentSettings`)."""

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
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pending: DesiredState | None = None
        self._outcomes: list[Outcome] = []
        self._logged: list[tuple[str, str]] = []
        self._resync = True
        self._report: dict[str, Any] | None = None
        self._report_ready = threading.Event()
        self._last_key: object = None
        self._last_full = 0.0

    # --- callbacks from other threads ------------------------------------------

    def _event(self, kind: str, message: Mapping[str, Any]) -> None:
        if kind == LOG_EVENT:  # most lines say nothing about a failure: no wake-up
            found = logged_reason(message)
            if found is None:
                return
            with self._lock:
                self._logged.append(found)
        with self._lock:
            if kind.startswith("session-"):
                self._resync = True
        self._wake.set()

    def _initiated(self, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes.append(outcome)
        self._wake.set()

    def offer(self, desired: DesiredState) -> None:
        """Hand the loop a new desired state (the poller does; tests may)."""
        with self._lock:
            self._pending = desired
        self._wake.set()

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
            self.step()
            self._wake.wait(TICK)
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
            self._report_ready.wait(self.options.report_interval)
            self._report_ready.clear()
            with self._lock:
                report = self._report
            if report is None or self._stop.is_set():
                continue
            try:
                answer = self.client.report(report)
            except ServerUnavailable as exc:
                LOG.warning("report not delivered: %s", exc)
                self._stop.wait(1.0)
                self._report_ready.set()
                continue
            if answer.get("stale"):
                LOG.info("stale in report: %s", answer.get("stale"))

    # --- the loop --------------------------------------------------------------------

    def step(self) -> None:
        """One turn: reconcile if due, bring up what is missing, report."""
        with self._lock:
            pending, self._pending = self._pending, None
            outcomes, self._outcomes = self._outcomes, []
            logged, self._logged = self._logged, []
            resync, self._resync = self._resync, False
        rec = self.reconciler
        for outcome in outcomes:
            rec.record(outcome)
        for group, reason in logged:
            rec.logged(group, reason)
        desired = pending or rec.desired
        now = time.monotonic()
        restarts = rec.restarts
        if desired is not None and (
            pending or resync or now - self._last_full >= self.options.resync_interval
        ):
            rec.apply(desired)
            self._last_full = now
        sas = rec.list_sas()
        if rec.restarts != restarts and desired is not None:  # charon restarted meanwhile
            rec.apply(desired)
            sas = rec.list_sas()
        if sas is not None and rec.charon is not None and desired is not None:
            rec.sync_tunnel_routes(sas)
            self.initiator.check(desired.groups(), sas, rec.charon)
        self._publish(rec.statuses(sas) if desired is not None else {})

    def _publish(self, statuses: Mapping[str, ConnStatus]) -> None:
        rec = self.reconciler
        revisions = {c.id: c.revision for c in rec.desired.connections} if rec.desired else {}
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
        report = {
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
            "connections": connections,
        }
        key = [(str(c["id"]), c["revision"], str(c["status"]), c["reason"]) for c in connections]
        with self._lock:
            self._report = report
        if key != self._last_key:
            self._last_key = key
            LOG.info("status: %s", ", ".join(f"{c[0][:8]} {c[2]}" for c in key) or "no connections")
            self._report_ready.set()
