"""What a connection's status badge says besides the status: since when
("since 3 min", the UTC time in a ``<time>`` element) and why, for a whole
list page at once, and the live fragment the list polls.

"Since" is the tunnel's ``last_status_change`` (docs/api/tunnel.md), which
only a data plane records: under the null driver no badge has one (the
creation time would date a status no tunnel ever had). The reason is the
one the data plane gave, else what the server itself knows
(:func:`~vpnaas.ui.views.status_reason`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import falcon
import orjson

from vpnaas.api import http
from vpnaas.ui.console import Console
from vpnaas.ui.data import CONNECTION, Caller, list_query
from vpnaas.ui.views import status_reason

__all__ = ["ConnectionStatus", "StatusNote", "ago", "status_notes"]

_STAMP = "%Y-%m-%dT%H:%M:%SZ"
#: (seconds in the unit, its short name), largest first
#: whole minutes at the finest: the polled fragment (and its ETag) then
#: changes at most once a minute while nothing else does, so polls get 304s
_UNITS = ((86400, "d"), (3600, "h"), (60, "min"))


@dataclass(frozen=True)
class StatusNote:
    """The badge's words beside the status."""

    since: str | None  # ISO 8601 UTC, as the tunnel row holds it
    ago: str  # "3 min"; empty without ``since``
    reason: str

    def title(self) -> str:
        return self.since.replace("T", " ").replace("Z", " UTC") if self.since else ""


def ago(stamp: str, now: dt.datetime) -> str:
    """How long before ``now`` the ISO 8601 UTC ``stamp`` is, in its largest
    whole unit ("3 min"), "<1 min" under a minute; a stamp in the future
    counts as now."""
    then = dt.datetime.strptime(stamp, _STAMP).replace(tzinfo=dt.UTC)
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in _UNITS:
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "<1 min"


def status_notes(
    caller: Caller, items: Sequence[dict[str, Any]], driver: str, now: dt.datetime | None = None
) -> dict[str, StatusNote]:
    """The note of each listed connection, read in one batch (``items`` are
    what the caller's list showed, so they are the ones it may see)."""
    moment = now or dt.datetime.now(dt.UTC)
    read = caller.status_notes([c["id"] for c in items])
    notes = {}
    for c in items:
        since, reason = read.get(c["id"], (None, None))
        notes[c["id"]] = StatusNote(
            since=since,
            ago=ago(since, moment) if since else "",
            reason=reason or status_reason(c["status"], driver),
        )
    return notes


class ConnectionStatus:
    """``/ui/connections/status``: the status badges of the listed rows, as
    out-of-band fragments for htmx to swap in. Tagged by what the badges
    show (status, since, reason), so an unchanged poll is a 304."""

    TEMPLATE_VERSION = b"status-2"

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        caller = self.console.caller(req)
        query = [*list_query(req), ("fields", "id"), ("fields", "status")]
        items, _ = caller.page(CONNECTION, query, "/ui/connections")
        notes = status_notes(caller, items, self.console.driver)
        shown = [(c["id"], c["status"], notes[c["id"]].__dict__) for c in items]
        tag = http.etag(orjson.dumps(shown) + self.TEMPLATE_VERSION)
        resp.set_header("ETag", tag)
        resp.set_header("Cache-Control", "no-cache, private")
        if http.matches(req.get_header("If-None-Match"), tag):
            resp.status = 304
            return
        self.console.views.send(resp, "status.html", connections=items, notes=notes)
