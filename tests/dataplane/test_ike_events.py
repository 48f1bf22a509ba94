"""charon's IKE events against real charons (docs/agent.md §Status): a
peer that dies takes every connection of its IKE SA DOWN from charon's
``ike-updown`` event, while charon is still deleting the children; a
rekey or a make-before-break reauth of that IKE SA reports no DOWN.

The gateways here hold an address inside each of :data:`TUNNELS` /28s
(kernel-libipsec needs one inside every local traffic selector), and
their charons reauthenticate make-before-break."""

from __future__ import annotations

import ipaddress
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dataplane.conftest import (
    DATAPLANE,
    RunningAgent,
    assert_one_ike_sa_each,
    ike_sas,
    place,
)
from tests.support import desired_state as ds
from tests.support import ipsec
from vpnaas.agent.charon import Charon
from vpnaas.agent.events import EventListener
from vpnaas.agent.status import PEER_NOT_RESPONDING

pytestmark = DATAPLANE

#: tunnels (connections per gateway) of the peer-death test, all children
#: of one IKE SA: charon deletes them one by one after its down event
TUNNELS = 500
#: seconds from charon's down event to the report of every connection DOWN
#: (0.09 s measured; waiting for a status round that no longer shows the
#: 500 children took 1.6 s on the same machine)
DOWN_AFTER_EVENT = 0.5


def _lans(net: int) -> list[str]:
    nets = ipaddress.IPv4Network(f"10.{net}.0.0/16").subnets(new_prefix=28)
    return [str(n) for _, n in zip(range(TUNNELS), nets, strict=False)]


@pytest.fixture(scope="module")
def gw() -> Iterator[ipsec.Gateways]:
    extra = tuple([f"{ipaddress.IPv4Network(n)[1]}/28" for n in _lans(net)] for net in (11, 12))
    with ipsec.gateways(
        **place("m", "n"),
        extra_lan=extra,  # type: ignore[arg-type]
        charon={"make_before_break": "yes"},
    ) as gateways:
        yield gateways


def _tunnels(gw: ipsec.Gateways, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        ds.connection(
            f"{i:08x}-0000-4000-8000-00000000e7e0",
            local=gw.a.wan,
            peer=gw.b.wan,
            local_cidrs=[local],
            peer_cidrs=[peer],
            **extra,
        )
        for i, local, peer in zip(range(n), _lans(11), _lans(12), strict=False)
    ]


def _up(agents: tuple[RunningAgent, RunningAgent], conns: list[dict[str, Any]]) -> None:
    a, b = agents
    b.offer(ds.state("router-b", *(ds.mirror(c) for c in conns)))
    a.offer(ds.state("router-a", *conns))
    for running in agents:
        for conn in conns:
            running.wait(conn["id"], "ACTIVE", timeout=60)


class DownEvents:
    """charon A's ``ike-updown`` (down) events, with when they came."""

    def __init__(self, site: ipsec.Site) -> None:
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self.ready = threading.Event()
        self.listener = EventListener(site.vici, self._on)

    def _on(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "session-connected":
            self.ready.set()
        elif kind == "ike-updown" and message.get("up") != "yes":
            self.seen.append((time.monotonic(), message))

    def ended(self) -> list[str]:
        """The unique ids of the IKE SAs that went down."""
        return [
            str(sa["uniqueid"])
            for _, message in self.seen
            for sa in message.values()
            if isinstance(sa, dict)
        ]

    def __enter__(self) -> DownEvents:
        self.listener.start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.stop()
        self.listener.join(5)


def _all_down_at(running: RunningAgent, ids: set[str], since: float) -> float | None:
    """When the reports (read together) first said none of ``ids`` is ACTIVE."""
    said: dict[str, str] = {}
    for at, report in running.server.reports:
        said.update((c["id"], c["status"]) for c in report["connections"])
        if at >= since and all(said.get(i, "ACTIVE") != "ACTIVE" for i in ids):
            return at
    return None


def test_peer_death_reports_every_connection_down_from_charons_event(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    conns = _tunnels(gw, TUNNELS)
    _up(agents, conns)
    a = agents[0]
    ids = {c["id"] for c in conns}
    with DownEvents(gw.a) as events:
        killed = time.monotonic()
        gw.b.kill_charon(signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (at := _all_down_at(a, ids, killed)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert events.seen, "charon A sent no down event"
    event = events.seen[0][0]
    assert at is not None, a.server.latest()
    print(
        f"peer killed: down event after {event - killed:.2f}s, all {TUNNELS} "
        f"DOWN reported {at - event:.3f}s after it"
    )
    assert at - event <= DOWN_AFTER_EVENT
    assert {a.server.latest()[i] for i in ids} == {("DOWN", PEER_NOT_RESPONDING)}
    assert ike_sas(gw.a)  # charon's own restart is under way: no agent initiation


def _reported(running: RunningAgent, ids: set[str], since: float) -> set[tuple[str, str | None]]:
    return {
        (c["status"], c["reason"])
        for at, report in running.server.reports
        if at >= since
        for c in report["connections"]
        if c["id"] in ids
    }


@pytest.mark.parametrize(
    ("version", "reauth"),
    [
        pytest.param("v2", False, id="ikev2-rekey"),
        pytest.param("v2", True, id="ikev2-reauth"),
        pytest.param("v1", True, id="ikev1-reauth"),
    ],
)
def test_rekey_and_reauth_report_no_down(
    gw: ipsec.Gateways,
    agents: tuple[RunningAgent, RunningAgent],
    version: str,
    reauth: bool,
) -> None:
    """On the gateway that initiated the IKE SA, as a rekey or reauth
    timer would; both agents watch."""
    conns = _tunnels(gw, 3, ikepolicy={"ike_version": version})
    _up(agents, conns)
    assert_one_ike_sa_each(gw)
    ids = {c["id"] for c in conns}
    site = next(s for s in (gw.a, gw.b) if ike_sas(s)[0].get("initiator") == "yes")
    (before,) = ike_sas(site)
    since = time.monotonic()
    with DownEvents(site) as events:
        with Charon(site.vici) as charon:
            arg = {"ike-id": before["uniqueid"], **({"reauth": "yes"} if reauth else {})}
            charon.session.rekey(arg)
        deadline = time.monotonic() + 15  # IKEv1 deletes the old SA after 10 s
        while [sa["uniqueid"] for sa in ike_sas(site)] in ([], [before["uniqueid"]]) or len(
            ike_sas(site)
        ) > 1:
            assert time.monotonic() < deadline, ike_sas(site)
            time.sleep(0.1)
        time.sleep(1.5)  # a status round or two after the old SA went
    (after,) = ike_sas(site)
    assert after["state"] == "ESTABLISHED"
    if reauth:  # the old IKE SA went down (the event a peer's death sends too)
        assert before["uniqueid"] in events.ended()
    for running in agents:
        assert _reported(running, ids, since) <= {("ACTIVE", None)}
        assert {running.server.latest()[i] for i in ids} == {("ACTIVE", None)}


#: seconds from B's load to all ACTIVE when A loaded the tunnels 7 s before
#: and its charon was refused: B starts them 0.3-0.5 s after its load
#: (1.1-1.4 s in all). Without that, B waited out its own grace time
#: (2.5-3 s) or A's next try (A's pause after its failed tries had grown to
#: 4 s by then)
LATE_PEER_UP = 2.2


def test_a_gateway_given_its_tunnels_after_the_peer_starts_them_at_once(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    """docs/agent.md §Reconciling: what the peer asked for and was refused."""
    conns = _tunnels(gw, 20)
    a, b = agents
    a.offer(ds.state("router-a", *conns))
    time.sleep(7.0)  # A's charon starts them as it loads them; B has no configuration
    start = time.monotonic()
    b.offer(ds.state("router-b", *(ds.mirror(c) for c in conns)))
    took = max(r.wait(c["id"], "ACTIVE", timeout=30, since=start) for r in agents for c in conns)
    print(f"all ACTIVE {took:.2f}s after B got its configuration")
    assert took <= LATE_PEER_UP
