"""What a report carries (docs/agent-protocol.md §reports): only entries
the server has not accepted as they are, times aside; everything again for
another charon; what the server calls stale or asks for again."""

from __future__ import annotations

from typing import Any

from vpnaas.agent.acks import Acks


def _entry(conn_id: str, status: str = "ACTIVE", rx: int = 0, at: str = "T1") -> dict[str, Any]:
    telemetry = {"child_sas": [{"bytes_in": rx, "installed_at": at}]}
    return {
        "id": conn_id,
        "revision": "r1",
        "status": status,
        "reason": None,
        "telemetry": telemetry,
    }


def test_an_accepted_entry_is_not_sent_again_until_it_changes() -> None:
    acks = Acks()
    entries = {"c1": _entry("c1"), "c2": _entry("c2")}
    sent = acks.unsent("since-1", entries)
    assert set(sent) == {"c1", "c2"}
    assert acks.record({"accepted": ["c1", "c2"]}, entries, sent) is False
    later = {"c1": _entry("c1", at="T2"), "c2": _entry("c2", rx=5)}
    assert set(acks.unsent("since-1", later)) == {"c2"}  # c1 only moved a time
    assert set(acks.unsent("since-2", later)) == {"c1", "c2"}  # charon restarted


def test_stale_and_resent_entries_are_sent_again() -> None:
    acks = Acks()
    entries = {"c1": _entry("c1"), "c2": _entry("c2")}
    sent = acks.unsent("s", entries)
    acks.record({"accepted": ["c1", "c2"]}, entries, sent)
    answer = {"accepted": [], "stale": ["c1"], "resend": ["c2"]}
    assert acks.record(answer, entries, {"c1": entries["c1"]}) is True  # c2 was not in it
    assert set(acks.unsent("s", entries)) == {"c1", "c2"}
