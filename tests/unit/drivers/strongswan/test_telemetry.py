"""Traffic totals from per-SA counters (vpnaas.drivers.strongswan.telemetry):
each SA counted once, whatever the order and repetition of reports."""

from __future__ import annotations

from typing import Any

from vpnaas.drivers.strongswan import telemetry

A, B = "2026-12-07T00:00:00Z", "2026-12-07T05:00:00Z"


def _sas(*children: tuple[str, int]) -> dict[str, Any]:
    return {
        "child_sas": [
            {"name": "c", "uniqueid": uid, **dict.fromkeys(telemetry.COUNTERS, n)}
            for uid, n in children
        ]
    }


def _run(*reports: tuple[str | None, dict[str, Any]]) -> int:
    state = telemetry.empty_counters()
    for since, sas in reports:
        state = telemetry.merge_counters(state, since, sas)
    return telemetry.totals(state)["bytes_in"]


def test_a_repeated_report_counts_once() -> None:
    assert _run((A, _sas(("1", 10))), (A, _sas(("1", 10))), (A, _sas(("1", 30)))) == 30


def test_a_rekeyed_sa_adds_to_the_retired_one() -> None:
    assert _run((A, _sas(("1", 10))), (A, _sas(("1", 15), ("2", 0))), (A, _sas(("2", 7)))) == 22


def test_a_report_without_sas_keeps_the_total() -> None:
    assert _run((A, _sas(("1", 10))), (A, {}), (A, {"child_sas": "junk"})) == 10


def test_a_new_charon_reusing_an_id_is_another_sa() -> None:
    assert _run((A, _sas(("1", 10))), (B, _sas(("1", 3)))) == 13


def test_counters_that_go_down_under_one_key_are_a_new_sa() -> None:
    assert _run((None, _sas(("1", 10))), (None, _sas(("1", 4)))) == 14


def test_history_keeps_the_newest_fifty() -> None:
    history: list[dict[str, Any]] = []
    for n in range(60):
        history = telemetry.add_history(history, f"t{n:02d}", "DOWN", str(n))
    assert len(history) == telemetry.HISTORY_MAX
    assert (history[0]["at"], history[-1]["at"]) == ("t59", "t10")
