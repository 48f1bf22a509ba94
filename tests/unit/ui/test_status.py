"""How long ago a status changed, as the badge words it."""

from __future__ import annotations

import datetime as dt

import pytest

from vpnaas.ui.status import StatusNote, ago

NOW = dt.datetime(2026, 12, 7, 1, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("stamp", "words"),
    [  # ids without colons: gabbi's pytest plugin takes a colon for one of its stories
        pytest.param("2026-12-07T01:00:00Z", "<1 min", id="now"),
        pytest.param("2026-12-07T00:59:18Z", "<1 min", id="seconds"),
        pytest.param("2026-12-07T00:57:00Z", "3 min", id="minutes"),
        pytest.param("2026-12-07T00:00:01Z", "59 min", id="almost-an-hour"),
        pytest.param("2026-12-06T22:00:00Z", "3 h", id="hours"),
        pytest.param("2026-12-04T01:00:00Z", "3 d", id="days"),
        pytest.param("2026-12-07T01:00:05Z", "<1 min", id="a-clock-ahead-of-ours-is-now"),
    ],
)
def test_ago_words_the_largest_whole_unit(stamp: str, words: str) -> None:
    assert ago(stamp, NOW) == words


def test_the_title_is_the_utc_time() -> None:
    note = StatusNote(since="2026-12-07T00:57:00Z", ago="3 min", reason="")
    assert note.title() == "2026-12-07 00:57:00 UTC"
    assert StatusNote(since=None, ago="", reason="").title() == ""
