"""Why a connection is down, from charon's ``log`` events: lines recorded
from real charons (a peer's charon killed, a response-only responder with a
wrong psk) replayed into the reconciler."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import desired_state as ds
from vpnaas.agent import status
from vpnaas.agent.reconcile import Reconciler
from vpnaas.agent.routes import Routes
from vpnaas.agent.service import Agent
from vpnaas.ipsec.desired import group_name, parse_state
from vpnaas.spec.vpn import ACTIVE, DOWN, ERROR

#: the IKE connection of c1 (router r1, 192.0.2.1 to 192.0.2.2, ids the addresses)
GROUP = group_name(("r1", "192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2"))

#: charon A's log events after charon B was killed (dpd restart, 0.5 s x 2)
PEER_KILLED = [
    (GROUP, "sending DPD request"),
    (GROUP, "retransmit 1 of request with message ID 2"),
    (GROUP, "retransmit 2 of request with message ID 2"),
    (GROUP, "giving up after 2 retransmits"),
    (GROUP, "restarting CHILD_SA c1"),
    (GROUP, f"initiating IKE_SA {GROUP}[2] to 192.0.2.2"),
]
#: then charon's own re-initiations keep timing out
RETRY_TIMED_OUT = [
    (GROUP, "retransmit 1 of request with message ID 0"),
    (GROUP, "giving up after 2 retransmits"),
    (GROUP, "peer not responding, trying again (2/0)"),
]
#: charon B, response-only, whose psk differs from A's, answering A's attempt
RESPONDER_WRONG_PSK = [
    ("(unnamed)", "192.0.2.1 is initiating an IKE_SA"),
    ("(unnamed)", "looking for peer configs matching 192.0.2.2[192.0.2.2]...192.0.2.1[192.0.2.1]"),
    (GROUP, f"selected peer config '{GROUP}'"),
    (GROUP, "tried 1 shared key for '192.0.2.2' - '192.0.2.1', but MAC mismatched"),
]


def _ike(state: str, child: str | None = None) -> dict[str, Any]:
    children = {"c1-1": {"name": "c1", "state": child}} if child else {}
    return {GROUP: {"state": state, "child-sas": children}}


UP = [_ike("ESTABLISHED", "INSTALLED")]
RETRYING = [_ike("CONNECTING")]


def _reconciler(**extra: Any) -> Reconciler:
    doc = ds.connection(
        "c1",
        local="192.0.2.1",
        peer="192.0.2.2",
        local_cidrs=["10.1.0.0/24"],
        peer_cidrs=["10.2.0.0/24"],
        **extra,
    )
    rec = Reconciler("unix:///nowhere.vici", Routes(None))
    rec.desired = parse_state(ds.state("r1", doc))
    assert [group.name for group in rec.desired.groups()] == [GROUP]
    return rec


def _replay(rec: Reconciler, lines: list[tuple[str, str]]) -> None:
    for name, line in lines:
        found = status.logged_reason(
            {"group": "IKE", "level": "1", "ikesa-name": name, "msg": line}
        )
        if found is not None:
            rec.logged(*found)


def _now(rec: Reconciler, sas: list[dict[str, Any]]) -> tuple[str, str | None]:
    got = rec.statuses(sas)["c1"]
    return got.status, got.reason


def test_a_peer_that_stopped_answering_is_reported_until_the_sa_is_back() -> None:
    rec = _reconciler()
    assert _now(rec, UP) == (ACTIVE, None)
    _replay(rec, PEER_KILLED)
    assert _now(rec, RETRYING) == (DOWN, status.PEER_NOT_RESPONDING)
    _replay(rec, RETRY_TIMED_OUT)
    rec.record({"c1": status.CONNECTING})  # the agent's own attempt timed out too
    assert _now(rec, RETRYING) == (DOWN, status.PEER_NOT_RESPONDING)
    assert _now(rec, []) == (DOWN, status.PEER_NOT_RESPONDING)
    assert _now(rec, UP) == (ACTIVE, None)
    assert _now(rec, RETRYING) == (DOWN, status.CONNECTING)  # the old reason is gone


def test_a_peer_answering_again_replaces_the_silence() -> None:
    """A restarted peer without its configuration yet answers "no proposal
    chosen": it answers, so the agent is connecting again."""
    rec = _reconciler()
    _replay(rec, PEER_KILLED)
    rec.record({"c1": status.NO_PROPOSAL})
    assert _now(rec, []) == (DOWN, status.CONNECTING)


def test_config_refused_is_not_replaced_by_a_silent_peer() -> None:
    rec = _reconciler()
    rec.failures["c1"] = status.CONFIG_REFUSED
    _replay(rec, PEER_KILLED)
    assert _now(rec, []) == (ERROR, status.CONFIG_REFUSED)


def test_a_response_only_responder_sees_a_wrong_psk() -> None:
    rec = _reconciler(initiator="response-only")
    assert _now(rec, []) == (DOWN, status.WAITING)
    _replay(rec, RESPONDER_WRONG_PSK)  # a first failure may be a race: not an error yet
    assert _now(rec, []) == (DOWN, status.CONNECTING)
    _replay(rec, RESPONDER_WRONG_PSK)
    assert _now(rec, []) == (ERROR, status.AUTH_FAILED)
    assert _now(rec, UP) == (ACTIVE, None)
    assert _now(rec, []) == (DOWN, status.WAITING)


def test_a_bi_directional_responder_leaves_auth_failures_to_its_initiations() -> None:
    rec = _reconciler()
    _replay(rec, RESPONDER_WRONG_PSK * 2)
    assert _now(rec, []) == (DOWN, status.CONNECTING)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"msg": "giving up after 2 retransmits"}, id="no-ike-sa"),
        pytest.param({"ikesa-name": GROUP, "msg": "sending DPD request"}, id="dpd-request"),
        pytest.param(
            {"ikesa-name": GROUP, "msg": "retransmit 1 of request with message ID 2"},
            id="one-retransmit",
        ),
        pytest.param({"ikesa-name": GROUP, "msg": "received NO_PROPOSAL_CHOSEN"}, id="initiator"),
    ],
)
def test_other_log_lines_say_nothing(message: dict[str, str]) -> None:
    assert status.logged_reason(message) is None


def test_ikev1_dpd_timeout_is_a_silent_peer() -> None:
    message = {"ikesa-name": GROUP, "msg": "DPD check timed out, enforcing DPD action"}
    assert status.logged_reason(message) == (GROUP, status.PEER_NOT_RESPONDING)


def test_an_unknown_ike_sa_name_changes_nothing() -> None:
    rec = _reconciler()
    rec.logged("vpn-other", status.PEER_NOT_RESPONDING)
    assert rec.failures == {}


def test_only_telling_log_lines_wake_the_agent(offline_agent: Agent) -> None:
    agent = offline_agent
    agent._event("log", {"ikesa-name": GROUP, "msg": "sending DPD request"})
    assert not agent._wake.is_set()
    assert agent._logged == []
    agent._event("log", {"ikesa-name": GROUP, "msg": "giving up after 2 retransmits"})
    assert agent._wake.is_set()
    assert agent._logged == [(GROUP, status.PEER_NOT_RESPONDING)]
