"""The initiator and what the peer wants (docs/agent.md §Reconciling):
children the peer asked for before this gateway had them are started at
once, a peer refused an IKE SA is started soon, and the gateway that does
not start at load queues its missing children soon once the IKE SA is up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support import desired_state as ds
from vpnaas.agent import status
from vpnaas.agent.charon import InitiateResult
from vpnaas.agent.initiate import QUEUE, UP_GRACE, Initiator
from vpnaas.agent.service import Agent
from vpnaas.ipsec.desired import Group, parse_state

#: B sorts after A: B is the gateway that does not start at load
A, B = "192.0.2.1", "192.0.2.2"


class Charon:
    """Records initiations; every one succeeds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __enter__(self) -> Charon:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def initiate(self, ike: str, child: str, wait_ms: int) -> InitiateResult:
        self.calls.append((child, wait_ms))
        return InitiateResult(True, ())

    def terminate(self, **_: Any) -> None:
        raise AssertionError("nothing is a duplicate here")


def _group(local: str, peer: str) -> Group:
    conns = [
        ds.connection(
            f"c{n}",
            local=local,
            peer=peer,
            local_cidrs=[f"10.1.{n}.0/24"],
            peer_cidrs=[f"10.2.{n}.0/24"],
        )
        for n in (1, 2)
    ]
    (group,) = parse_state(ds.state("r1", *conns)).groups()
    return group


def _sas(group: Group, *children: str) -> list[dict[str, Any]]:
    kids = {f"{c}-1": {"name": c, "state": "INSTALLED"} for c in children}
    sa = {"uniqueid": "1", "state": "ESTABLISHED", "initiator-spi": "aa", "child-sas": kids}
    return [{group.name: sa}]


def _check(initiator: Initiator, charon: Charon, group: Group, sas: list[Any]) -> None:
    initiator.check([group], sas, charon)  # type: ignore[arg-type]
    initiator.join(2.0)


def _initiator(charon: Charon) -> Initiator:
    return Initiator("unix:///none", lambda _: None, connect=lambda _: charon)  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize(("local", "peer"), [(A, B), (B, A)], ids=["first", "second"])
def test_a_child_the_peer_asked_for_starts_at_once(local: str, peer: str) -> None:
    charon = Charon()
    initiator, group = _initiator(charon), _group(local, peer)
    initiator.asked(group.name, status.selectors(["10.1.2.0/24"], ["10.2.2.0/24"]))
    _check(initiator, charon, group, _sas(group, "c1"))
    assert charon.calls == [("c2", QUEUE)]
    _check(initiator, charon, group, _sas(group, "c1"))
    assert charon.calls == [("c2", QUEUE)]  # asked once, started once


def test_an_unknown_wish_starts_nothing() -> None:
    charon = Charon()
    initiator, group = _initiator(charon), _group(A, B)
    initiator.asked(group.name, status.selectors(["10.1.9.0/24"], ["10.2.9.0/24"]))
    _check(initiator, charon, group, _sas(group, "c1"))
    assert charon.calls == []


@pytest.mark.parametrize(
    ("local", "peer", "started"), [(B, A, [("c2", QUEUE)]), (A, B, [])], ids=["second", "first"]
)
def test_the_second_gateway_queues_missing_children_soon_once_the_ike_sa_is_up(
    local: str, peer: str, started: list[tuple[str, int]]
) -> None:
    """The first gateway's charon started them at load: it keeps its
    grace time of a second."""
    charon = Charon()
    initiator, group = _initiator(charon), _group(local, peer)
    _check(initiator, charon, group, _sas(group, "c1"))
    assert charon.calls == []
    time.sleep(0.35)
    _check(initiator, charon, group, _sas(group, "c1"))
    assert charon.calls == started


@pytest.mark.parametrize("refused", [True, False], ids=["refused", "not-refused"])
def test_a_peer_refused_an_ike_sa_is_started_soon(refused: bool) -> None:
    charon = Charon()
    initiator, group = _initiator(charon), _group(B, A)
    if refused:
        initiator.refused(A)
    _check(initiator, charon, group, [])
    assert charon.calls == []  # a moment later: the peer may be starting one itself
    time.sleep(0.55)
    _check(initiator, charon, group, [])
    assert charon.calls == ([("c1", 15000), ("c2", QUEUE)] if refused else [])


def test_refusals_are_read_from_charons_log_lines() -> None:
    line = "no IKE config found for 192.0.2.2...192.0.2.1, sending NO_PROPOSAL_CHOSEN"
    assert status.refused_peer({"msg": line}) == A
    ts = {
        "ikesa-name": "vpn-x",
        "msg": "traffic selectors 10.1.2.0/24 === 10.2.2.0/24 unacceptable",
    }
    assert status.refused_selectors(ts) == (
        "vpn-x",
        (frozenset({"10.1.2.0/24"}), frozenset({"10.2.2.0/24"})),
    )
    v6 = {"ikesa-name": "vpn-x", "msg": "traffic selectors fd00:0::/64 === fd01::/64 unacceptable"}
    assert status.refused_selectors(v6) == ("vpn-x", status.selectors(["fd00::/64"], ["fd01::/64"]))
    for other in ("received TS_UNACCEPTABLE notify, no CHILD_SA built", "no IKE config"):
        assert status.refused_peer({"msg": other}) is None
        assert status.refused_selectors({"ikesa-name": "vpn-x", "msg": other}) is None


def test_the_agent_hands_refusals_to_its_initiator(offline_agent: Agent) -> None:
    line = "traffic selectors 10.1.2.0/24 === 10.2.2.0/24 unacceptable"
    offline_agent._event("log", {"ikesa-name": "vpn-x", "msg": line})
    offline_agent._event("log", {"msg": "no IKE config found for 192.0.2.2...192.0.2.1, sending"})
    assert offline_agent.initiator._asked == {
        "vpn-x": {
            status.selectors(["10.1.2.0/24"], ["10.2.2.0/24"]): pytest.approx(
                time.monotonic(), abs=5
            )
        }
    }
    assert set(offline_agent.initiator._refused) == {A}


def test_queued_children_that_do_not_come_up_are_queued_ever_more_slowly() -> None:
    """A peer that never accepts them (no such child there) must not get
    the same exchanges five times a second; one coming up resets the pause."""
    charon = Charon()
    initiator, group = _initiator(charon), _group(B, A)
    both = [("c1", "c1"), ("c2", "c2")]
    pauses = []
    for now, missing in ((10.0, both), (11.0, both), (12.0, both), (13.0, both), (14.0, both[1:])):
        initiator._queue_all(group, missing, now)
        initiator.join(2.0)
        pauses.append(round(initiator._next_try[group.name] - now, 3))
    assert pauses == [UP_GRACE, 2 * UP_GRACE, 4 * UP_GRACE, 8 * UP_GRACE, UP_GRACE]
    assert len(charon.calls) == 9  # every run queued what was missing


def test_the_loop_is_told_when_a_grace_time_ends() -> None:
    charon = Charon()
    initiator, group = _initiator(charon), _group(B, A)
    assert initiator.due_in(time.monotonic(), 0.5) == 0.5  # nothing waits
    initiator.refused(A)
    before = time.monotonic()
    _check(initiator, charon, group, [])
    assert 0.3 <= initiator.due_in(before, 5.0) <= 1.0  # 0.3-0.5 s after that check
