"""The initiator's end of duplicate IKE SAs (docs/agent.md §Reconciling):
only SAs both sides started count, the one with the smallest initiator SPI
stays, each side ends only its own, and never while charon is at work on
the group (a make-before-break reauthentication has two SAs for a while)."""

from __future__ import annotations

from typing import Any

import pytest

from vpnaas.agent.initiate import Initiator


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
