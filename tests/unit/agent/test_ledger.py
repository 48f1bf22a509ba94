"""The IKE SA ledger (docs/agent.md §Status): a down event ends its IKE SA
for good and, when no other SA of its group is established, the group at
once; a rekey or a make-before-break reauth ends nothing; a ``list-sas``
read begun after the event is the truth again. Events in the shape charon
5.9 sends them (``ike-updown``: the SA under its name, ``up`` only when
up; ``ike-rekey``: ``old`` and ``new`` under the name)."""

from __future__ import annotations

from typing import Any

from tests.support import desired_state as ds
from vpnaas.agent.ledger import IKE_REKEY, IKE_UPDOWN, Ended, IkeLedger, ended_entries
from vpnaas.agent.service import Agent
from vpnaas.agent.status import PEER_NOT_RESPONDING, ConnStatus
from vpnaas.ipsec.desired import parse_state
from vpnaas.spec.vpn import ACTIVE, DOWN

GROUP = "vpn-0123456789abcdef0123"
OTHER = "vpn-fedcba9876543210fedc"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now


def _sa(uid: int, state: str = "ESTABLISHED", children: int = 2) -> dict[str, Any]:
    kids = {f"c{n}-{uid}": {"name": f"c{n}", "state": "INSTALLED"} for n in range(children)}
    return {"uniqueid": str(uid), "state": state, "initiator-spi": f"{uid:016x}", "child-sas": kids}


def _down(uid: int, name: str = GROUP) -> dict[str, Any]:
    return {name: _sa(uid)}


def _up(uid: int, name: str = GROUP) -> dict[str, Any]:
    return {"up": "yes", name: _sa(uid)}


def _ledger(*sas: tuple[str, dict[str, Any]]) -> tuple[IkeLedger, Clock]:
    clock = Clock()
    ledger = IkeLedger(clock)
    ledger.read([{name: sa} for name, sa in sas], clock())
    clock.tick()
    return ledger, clock


def test_a_down_event_ends_the_group_of_its_last_sa_at_once() -> None:
    ledger, clock = _ledger((GROUP, _sa(1)), (OTHER, _sa(2)))
    ledger.note(GROUP, PEER_NOT_RESPONDING)
    assert ledger.event(IKE_UPDOWN, _down(1)) == GROUP
    assert ledger.ended() == {GROUP: Ended(clock(), PEER_NOT_RESPONDING)}


def test_a_read_begun_before_the_event_drops_the_ended_sa_and_keeps_the_group_ended() -> None:
    ledger, clock = _ledger((GROUP, _sa(1)), (OTHER, _sa(2)))
    began = clock()
    clock.tick()
    ledger.event(IKE_UPDOWN, _down(1))
    # charon is still deleting the children: the SA shows, INSTALLED
    shown = ledger.read([{GROUP: _sa(1)}, {OTHER: _sa(2)}], began)
    assert shown == [{OTHER: _sa(2)}]
    assert set(ledger.ended()) == {GROUP}


def test_a_read_begun_after_the_event_is_the_truth() -> None:
    ledger, clock = _ledger((GROUP, _sa(1)))
    ledger.event(IKE_UPDOWN, _down(1))
    restarted = {GROUP: _sa(3, "CONNECTING", children=0)}
    assert ledger.read([{GROUP: _sa(1)}, restarted], clock.tick()) == [restarted]
    assert ledger.ended() == {}
    # the ended SA never counts again, even if a late read still shows it
    assert ledger.read([{GROUP: _sa(1)}], clock.tick()) == []
    # once a read no longer shows it, it is forgotten
    assert ledger.read([], clock.tick()) == []
    assert ledger._gone == {}


def test_a_new_sa_up_before_the_old_goes_down_ends_nothing() -> None:
    """A make-before-break reauth, or both gateways initiating at once and
    the duplicate being ended."""
    ledger, clock = _ledger((GROUP, _sa(1)))
    assert ledger.event(IKE_UPDOWN, _up(2)) is None
    clock.tick()
    assert ledger.event(IKE_UPDOWN, _down(1)) is None
    assert ledger.ended() == {}
    assert ledger.read([{GROUP: _sa(1)}, {GROUP: _sa(2)}], clock.tick() - 2) == [{GROUP: _sa(2)}]


def test_a_second_sa_known_from_a_read_keeps_the_group() -> None:
    ledger, _ = _ledger((GROUP, _sa(1)), (GROUP, _sa(2)))
    assert ledger.event(IKE_UPDOWN, _down(2)) is None
    assert ledger.event(IKE_UPDOWN, _down(1)) == GROUP


def test_an_sa_without_installed_children_does_not_keep_the_group() -> None:
    ledger, _ = _ledger((GROUP, _sa(1)), (GROUP, _sa(2, children=0)))
    assert ledger.event(IKE_UPDOWN, _down(1)) == GROUP


def test_an_ike_rekey_makes_the_new_sa_known() -> None:
    ledger, _ = _ledger((GROUP, _sa(1)))
    rekey = {GROUP: {"old": _sa(1, "REKEYED"), "new": _sa(2)}}
    assert ledger.event(IKE_REKEY, rekey) is None
    assert ledger.event(IKE_UPDOWN, _down(1)) is None
    assert ledger.ended() == {}


def test_an_up_event_ends_the_ended_state_and_forgets_the_reason() -> None:
    ledger, clock = _ledger()
    ledger.note(GROUP, PEER_NOT_RESPONDING)
    ledger.event(IKE_UPDOWN, _up(2))
    ledger.event(IKE_UPDOWN, _down(2))
    assert ledger.ended() == {GROUP: Ended(clock(), None)}
    ledger.event(IKE_UPDOWN, _up(3))
    assert ledger.ended() == {}


def test_a_restarted_charon_reuses_unique_ids_but_not_spis() -> None:
    ledger, clock = _ledger((GROUP, _sa(1)))
    ledger.event(IKE_UPDOWN, _down(1))
    again = {**_sa(1), "initiator-spi": "00000000000000ff"}
    assert ledger.read([{GROUP: again}], clock.tick()) == [{GROUP: again}]
    ledger.event(IKE_UPDOWN, _down(1))
    ledger.reset()
    assert ledger.read([{GROUP: _sa(1)}], clock.tick()) == [{GROUP: _sa(1)}]
    assert ledger.ended() == {}


def test_other_events_end_nothing() -> None:
    ledger, _ = _ledger((GROUP, _sa(1)))
    assert ledger.event("child-updown", _down(1)) is None
    assert ledger.read(None, 0.0) is None


def _entry(conn_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
    telemetry = {"ike_sa": {"uniqueid": "1"}, "child_sas": [{"name": conn_id}], "mtu": 1500}
    return {"id": conn_id, "revision": "r", "status": status, "reason": reason,
            "telemetry": telemetry}  # fmt: skip


def test_ended_entries_turn_the_active_connections_of_ended_groups_down() -> None:
    entries = {
        "c1": _entry("c1", "ACTIVE"),
        "c2": _entry("c2", "DOWN", "admin down"),
        "c3": _entry("c3", "ACTIVE"),
        "c4": _entry("c4", "ACTIVE"),
    }
    members = {
        GROUP: [("c1", "connecting"), ("c2", "connecting"), ("c3", "waiting for peer")],
        OTHER: [("c4", "connecting")],
    }
    out = ended_entries(entries, members, {GROUP: Ended(1.0, None)})
    assert out is not None
    assert out["c1"] == {
        **entries["c1"],
        "status": "DOWN",
        "reason": "connecting",
        "telemetry": {"child_sas": [], "mtu": 1500},
    }
    assert out["c2"] == entries["c2"]
    assert (out["c3"]["status"], out["c3"]["reason"]) == ("DOWN", "waiting for peer")
    assert out["c4"] == entries["c4"]
    peer = ended_entries(entries, members, {GROUP: Ended(1.0, PEER_NOT_RESPONDING)})
    assert peer is not None
    assert peer["c3"]["reason"] == PEER_NOT_RESPONDING
    assert ended_entries(entries, members, {OTHER + "x": Ended(1.0, None)}) is None
    assert ended_entries(out, members, {GROUP: Ended(1.0, None)}) is None


def test_ended_entries_give_a_round_that_raced_the_event_the_logged_reason() -> None:
    """A status round read the SAs before the peer's death, charon's "giving
    up" line came after: the round saw the group DOWN for no known reason."""
    entries = {
        "c1": _entry("c1", "DOWN", "connecting"),
        "c2": _entry("c2", "DOWN", "admin down"),
        "c3": _entry("c3", "DOWN", "no proposal chosen"),
    }
    members = {GROUP: [("c1", "connecting"), ("c2", "connecting"), ("c3", "connecting")]}
    out = ended_entries(entries, members, {GROUP: Ended(1.0, PEER_NOT_RESPONDING)})
    assert out is not None
    assert out["c1"] == {**entries["c1"], "reason": PEER_NOT_RESPONDING}
    assert out["c2"] == entries["c2"]  # a known reason stays
    assert out["c3"] == entries["c3"]
    assert ended_entries(entries, members, {GROUP: Ended(1.0, None)}) is None


def test_the_agent_reports_a_group_down_from_the_event_itself(offline_agent: Agent) -> None:
    """No status round runs here: the event thread turns the entries."""
    agent = offline_agent
    doc = ds.connection(
        "c1", local="192.0.2.1", peer="192.0.2.2", local_cidrs=["10.1.0.0/24"],
        peer_cidrs=["10.2.0.0/24"],
    )  # fmt: skip
    agent.reconciler.desired = parse_state(ds.state("r1", doc))
    (group,) = agent.reconciler.desired.groups()
    agent._publish({"c1": ConnStatus(ACTIVE, None, {"child_sas": [{"name": "c1"}]})})
    agent._report_ready.clear()
    agent._event("ike-updown", _up(1, group.name))
    agent._event("log", {"ikesa-name": group.name, "msg": "giving up after 2 retransmits"})
    assert agent._entries["c1"]["status"] == ACTIVE
    agent._event("ike-updown", _down(1, group.name))
    assert agent._report_ready.is_set()
    entry = agent._entries["c1"]
    assert (entry["status"], entry["reason"]) == (DOWN, PEER_NOT_RESPONDING)
    assert entry["telemetry"] == {"child_sas": []}
    # a status round read before the event cannot bring the SA back
    agent._publish({"c1": ConnStatus(ACTIVE, None, {"child_sas": [{"name": "c1"}]})})
    assert agent._entries["c1"]["status"] == DOWN
