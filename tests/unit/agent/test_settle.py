"""When a new desired state is applied (docs/agent.md §Status): once none
newer came for a moment, a little later on the gateway that starts its
groups at load, so that the peer, which got the same state at the same
time, has loaded the children that gateway's charon starts; and when the
rest between two status rounds ends early."""

from __future__ import annotations

import time

import pytest

from tests.support import desired_state as ds
from vpnaas.agent.pacing import HOLD_MAX, SETTLE, START_LAG, TICK
from vpnaas.agent.service import Agent
from vpnaas.ipsec.desired import DesiredState, parse_state

A, B = "192.0.2.1", "192.0.2.2"


def _state(local: str, peer: str, n: int) -> DesiredState:
    doc = ds.connection(
        f"c{n}", local=local, peer=peer, local_cidrs=["10.1.0.0/24"], peer_cidrs=["10.2.0.0/24"]
    )
    return parse_state(ds.state("r1", doc))


@pytest.mark.parametrize(("local", "peer", "lag"), [(A, B, START_LAG), (B, A, 0.0)])
def test_a_state_settles_later_on_the_gateway_that_starts_at_load(
    offline_agent: Agent, local: str, peer: str, lag: float
) -> None:
    agent = offline_agent
    agent.reconciler.desired = _state(local, peer, 0)
    agent.offer(_state(local, peer, 1))
    now = time.monotonic()
    assert agent._settled(now) == pytest.approx(SETTLE + lag, abs=0.02)
    assert agent._settled(now + SETTLE + lag + 0.01) == 0.0


def test_a_stream_of_states_is_applied_within_hold_max(offline_agent: Agent) -> None:
    agent = offline_agent
    agent.reconciler.desired = _state(B, A, 0)
    agent.offer(_state(B, A, 1))
    first = time.monotonic()
    agent.pacing.offered = (first + HOLD_MAX, first, 0.0)  # states kept coming since
    assert agent._settled(first + HOLD_MAX + 0.01) == 0.0


def test_the_loop_sleeps_until_a_pending_state_is_due_and_no_longer(
    offline_agent: Agent,
) -> None:
    agent = offline_agent
    now = time.monotonic()
    assert agent._next_wait(now) == TICK  # nothing pending: a tick
    agent.reconciler.desired = _state(B, A, 0)
    agent.offer(_state(B, A, 1))
    now = time.monotonic()
    assert agent._next_wait(now) == pytest.approx(SETTLE, abs=0.02)
    assert agent._next_wait(now + SETTLE + 0.01) == 0.0  # due: apply it at once, not a tick later


def test_a_stream_of_states_waits_for_quiet_only_while_charon_is_busy(
    offline_agent: Agent,
) -> None:
    """On the gateway that starts its children: with connections still
    coming up, each new state postpones the load (up to HOLD_MAX); with
    none, the first waiting state is loaded on time, newer ones or not."""
    agent = offline_agent
    agent.reconciler.desired = _state(A, B, 0)
    agent.offer(_state(A, B, 1))
    first = time.monotonic()
    later = first + 0.8 * (SETTLE + START_LAG)
    agent.pacing.offered = (later, first, START_LAG)  # a newer state came meanwhile
    agent.pacing.connecting = 3
    assert agent._settled(first + SETTLE + START_LAG + 0.01) > 0
    agent.pacing.connecting = 0
    assert agent._settled(first + SETTLE + START_LAG + 0.01) == 0.0


def test_the_rest_ends_when_the_last_connecting_ones_come_up(offline_agent: Agent) -> None:
    """charon's child-updown events since the last round are counted
    against the connections that round saw connecting."""
    agent = offline_agent
    agent.pacing.connecting = 2
    up = {"vpn-x": {"child-sas": {}}, "up": "yes"}
    agent._event("child-updown", up)
    assert not agent.pacing.rest_over()
    agent._event("child-updown", {"vpn-x": {"child-sas": {}}})  # a child went down
    assert not agent.pacing.rest_over()
    agent._event("child-updown", up)
    assert agent.pacing.rest_over()
    agent.pacing.connecting = 0  # nothing was connecting: nothing to hurry
    assert not agent.pacing.rest_over()
