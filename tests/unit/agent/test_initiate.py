"""The initiator's end of duplicate IKE SAs (docs/agent.md §Reconciling):
only SAs both sides started count, the one with the smallest initiator SPI
stays, each side ends only its own, and never while charon is at work on
the group (a make-before-break reauthentication has two SAs for a while)."""

from __future__ import annotations

from typing import Any

import pytest

from vpnaas.agent.charon import InitiateResult
from vpnaas.agent.initiate import QUEUE, Initiator, Outcome


class Terminations:
    def __init__(self) -> None:
        self.ended: list[str | None] = []

    def terminate(self, *, ike_id: str | None = None, **_: Any) -> None:
        self.ended.append(ike_id)


def _ike(uid: str, spi: str, *, mine: bool, **extra: Any) -> dict[str, Any]:
    sa = {"uniqueid": uid, "state": "ESTABLISHED", "initiator-spi": spi, **extra}
    return {**sa, "initiator": "yes"} if mine else sa


@pytest.mark.parametrize(
    ("sas", "ended"),
    [
        pytest.param([_ike("1", "aa", mine=False), _ike("2", "bb", mine=True)], ["2"], id="ours"),
        pytest.param([_ike("1", "aa", mine=True), _ike("2", "bb", mine=False)], [], id="theirs"),
        pytest.param(
            [_ike("1", "bb", mine=True), _ike("2", "aa", mine=True, **{"tasks-queued": ["X"]})],
            [],
            id="reauth-under-way",
        ),
        pytest.param(
            [_ike("1", "bb", mine=True), _ike("2", "aa", mine=True)], [], id="reauth-same-side"
        ),
        pytest.param(
            [_ike("1", "aa", mine=False), _ike("2", "bb", mine=True, **{"tasks-active": ["X"]})],
            [],
            id="children-under-way",
        ),
        pytest.param([_ike("1", "aa", mine=True)], [], id="one"),
    ],
)
def test_duplicates(sas: list[dict[str, Any]], ended: list[str]) -> None:
    charon = Terminations()
    Initiator._dedupe(charon, sas)  # type: ignore[arg-type]
    assert charon.ended == ended


class Recording:
    """A charon that records initiations; the children named in ``refuse`` fail."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, int]] = []

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def initiate(self, ike: str, child: str, wait_ms: int) -> InitiateResult:
        self.calls.append((child, wait_ms))
        if child in self.refuse:
            return InitiateResult(False, ("received NO_PROPOSAL_CHOSEN notify error",), "failed")
        return InitiateResult(True, ())


def _run(charon: Recording, missing: list[tuple[str, str]]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    initiator = Initiator("unix:///none", outcomes.append, wait_ms=15000, connect=lambda _: charon)  # type: ignore[arg-type, return-value]
    initiator._run("vpn-group", "192.0.2.2", missing)
    return outcomes


MISSING = [("c1", "c1-0"), ("c2", "c2-0"), ("c3", "c3-0")]


def test_waits_for_the_first_child_and_queues_the_others() -> None:
    """docs/agent.md §Reconciling: once the first child (and with it the IKE
    SA) is up, the rest are handed to charon without waiting for each."""
    charon = Recording()
    outcomes = _run(charon, MISSING)
    assert charon.calls == [("c1-0", 15000), ("c2-0", QUEUE), ("c3-0", QUEUE)]
    assert outcomes == [{"c1": None, "c2": None, "c3": None}]


def test_a_failed_first_child_stops_the_initiation() -> None:
    charon = Recording(refuse=frozenset({"c1-0"}))
    outcomes = _run(charon, MISSING)
    assert charon.calls == [("c1-0", 15000)]
    assert list(outcomes[0]) == ["c1"]
    assert outcomes[0]["c1"] is not None  # the reason read from charon's log lines
