"""Data-plane fixtures: two gateways with real charons (module-scoped) and
an agent per gateway, run in-process against a recording stand-in for the
server (the one boundary these tests do not cross; the end-to-end test
does)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import ipsec
from vpnaas.agent.charon import Charon
from vpnaas.agent.service import Agent, AgentOptions
from vpnaas.ipsec.desired import parse_state

MISSING = ipsec.dataplane_missing()
#: namespaces and state of these tests: ``<prefix>a`` ... under
#: ``/var/lib/<prefix>/`` when set (engineers sharing a machine each keep to
#: their own prefix), else the lab's random ``vpt<N>`` ones
PREFIX = os.environ.get("VPNAAS_LAB_PREFIX", "")


def place(first: str, second: str) -> dict[str, Any]:
    """``ipsec.gateways`` arguments for the gateway pair ``first``/``second``."""
    if not PREFIX:
        return {}
    names = (f"{PREFIX}{first}", f"{PREFIX}{second}")
    return {"state": Path("/var/lib") / PREFIX / f"{first}{second}", "names": names}


#: for the test modules here: they need root, charon and tcpdump
DATAPLANE = [
    pytest.mark.dataplane,
    pytest.mark.skipif(MISSING is not None, reason=f"data plane: {MISSING}"),
]


@dataclass
class RecordingServer:
    """Answers no desired state (tests hand it to the agent), keeps every
    report with the time it arrived, and what they say together: a report
    carries only what changed (docs/agent-protocol.md §reports), so the
    latest word on a connection may be in an earlier one."""

    reports: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    #: the connections the agent reports on now (the fixture sets it: a
    #: report does not name the connections that went)
    current: Callable[[], set[str]] = set
    _said: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def state(self, host: str, routers: Any, known: str | None, wait: int) -> None:
        self._stop.wait(wait)

    def report(self, report: dict[str, Any]) -> dict[str, Any]:
        self.reports.append((time.monotonic(), report))
        self._said.update((c["id"], c) for c in report["connections"])
        return {"accepted": [c["id"] for c in report["connections"]], "stale": []}

    def _now(self) -> list[dict[str, Any]]:
        current = self.current()
        return [c for conn_id, c in sorted(self._said.items()) if conn_id in current]

    def latest(self) -> dict[str, tuple[str, str | None]]:
        return {c["id"]: (c["status"], c["reason"]) for c in self._now()}

    def revisions(self) -> dict[str, str]:
        return {c["id"]: c["revision"] for c in self._now()}

    def telemetry(self, conn_id: str) -> dict[str, Any]:
        for c in self._now():
            if c["id"] == conn_id:
                return dict(c["telemetry"])
        return {}


@dataclass
class RunningAgent:
    site: ipsec.Site
    agent: Agent
    server: RecordingServer
    thread: threading.Thread
    offered: dict[str, str] = field(default_factory=dict)

    def offer(self, doc: dict[str, Any]) -> None:
        """Hand the agent ``doc``; :meth:`wait` then waits for reports on
        these revisions."""
        desired = parse_state(doc)
        self.offered = {c.id: c.revision for c in desired.connections}
        self.agent.offer(desired)

    def wait(
        self,
        conn_id: str,
        status: str,
        timeout: float = 15.0,
        since: float | None = None,
        reason: str | None = None,
    ) -> float:
        """Seconds (from ``since``, default now) until the reports say
        ``status`` (and ``reason``, if given) for ``conn_id``; fails after
        ``timeout``."""
        start = since if since is not None else time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.server.latest().get(conn_id, ("", None))
            current = self.server.revisions().get(conn_id) == self.offered.get(conn_id)
            if current and got[0] == status and (reason is None or got[1] == reason):
                return time.monotonic() - start
            time.sleep(0.02)
        raise AssertionError(
            f"{self.site.netns}: {conn_id} not {status} after {timeout}s: {self.server.latest()}\n"
            + self.site.log()[-3000:]
        )


def ike_sas(site: ipsec.Site) -> list[dict[str, Any]]:
    with Charon(site.vici) as charon:
        return [sa for entry in charon.list_sas() for sa in entry.values()]


def loaded(site: ipsec.Site) -> tuple[list[str], list[str]]:
    """The connections and shared keys loaded in the site's charon."""
    with Charon(site.vici) as charon:
        return charon.conns(), charon.shared()


def assert_one_ike_sa_each(gw: ipsec.Gateways, timeout: float = 15.0) -> None:
    """Both gateways end up with exactly one IKE SA, ESTABLISHED (a retry
    still under way, or an extra SA from simultaneous starts, is over
    within seconds)."""
    deadline = time.monotonic() + timeout

    def states() -> list[list[str]]:
        return [[str(sa["state"]) for sa in ike_sas(site)] for site in (gw.a, gw.b)]

    while states() != [["ESTABLISHED"]] * 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert states() == [["ESTABLISHED"]] * 2


def assert_ping_only_esp(gw: ipsec.Gateways) -> None:
    """20 pings LAN to LAN, none lost, only ESP in UDP on the WAN."""
    with ipsec.Capture(gw.a) as cap:
        sent, received = gw.a.ping(gw.b.lan, count=20)
    assert (sent, received) == (20, 20)
    assert cap.cleartext_icmp == 0, cap.lines[:5]
    assert cap.esp_in_udp >= 40
    assert cap.raw_esp == 0


def assert_ping_blocked(gw: ipsec.Gateways) -> None:
    """Pings LAN to LAN fail, and none leaves in the clear."""
    with ipsec.Capture(gw.a) as cap:
        _, received = gw.a.ping(gw.b.lan, count=5)
    assert received == 0
    assert cap.cleartext_icmp == 0, cap.lines[:5]


@pytest.fixture(scope="module")
def gw() -> Iterator[ipsec.Gateways]:
    with ipsec.gateways(**place("a", "b")) as gateways:
        yield gateways


def _start(site: ipsec.Site) -> RunningAgent:
    server = RecordingServer()
    options = AgentOptions(
        host=site.netns,
        routers=(f"router-{site.netns}",),
        vici_socket=site.vici,
        netns=site.netns,
        report_interval=2.0,
        strongswan_conf=str(site.conf),
    )
    agent = Agent(options, server)  # type: ignore[arg-type]
    server.current = lambda: set(agent.reporting)
    thread = threading.Thread(target=agent.run, name=f"agent-{site.netns}", daemon=True)
    thread.start()
    return RunningAgent(site, agent, server, thread)


@pytest.fixture
def agents(gw: ipsec.Gateways) -> Iterator[tuple[RunningAgent, RunningAgent]]:
    """An agent per gateway; at the end everything is removed again."""
    for site in (gw.a, gw.b):
        if not site.charon_alive():
            site.start_charon()
    a, b = _start(gw.a), _start(gw.b)
    try:
        yield a, b
    finally:
        for running in (a, b):
            running.offer({"revision": "empty", "routers": []})
        time.sleep(1.0)
        for running in (a, b):
            running.agent.stop()
            running.thread.join(10)
