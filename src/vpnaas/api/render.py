"""Response documents: members, collections and their paging links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from vpnaas.api.query import Params
from vpnaas.spec import Resource
from vpnaas.spec.resource import OWNER, OWNER_ALIAS

__all__ = ["item", "links"]


#: key lists kept: one per set of ``fields=`` asked for (any a client sends)
PAIRS_KEPT = 1024


def _pairs(res: Resource, fields: Sequence[str] | None) -> tuple[tuple[str, str], ...]:
    """(wire name, attribute it is read from) for each key a response has."""
    return _pairs_of(res.visible if fields is None else tuple(fields))


@lru_cache(maxsize=PAIRS_KEPT)
def _pairs_of(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((n, OWNER if n == OWNER_ALIAS else n) for n in names)


def item(
    res: Resource,
    obj: Mapping[str, Any],
    fields: Sequence[str] | None = None,
    echo: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire form of ``obj``: visible attributes (or exactly ``fields``),
    ``tenant_id`` mirroring ``project_id``, echoed composite values on top."""
    out = {name: obj[source] for name, source in _pairs(res, fields) if source in obj}
    if echo:
        for name, value in echo.items():
            if name in out:
                out[name] = value
    return out


def links(
    res: Resource,
    base_url: str,
    params: Params,
    page: Sequence[Mapping[str, Any]],
    limit: int,
    reverse: bool,
) -> list[dict[str, str]]:
    """``<collection>_links`` for a page (``docs/api/common.md`` §paging)."""
    kept = [(k, v) for k, v in params.pairs if k not in ("marker", "page_reverse")]
    out: list[dict[str, str]] = []
    short = len(page) < limit
    if not (short and not reverse):
        query = [*kept, ("marker", page[-1]["id"])] if page else kept
        out.append({"rel": "next", "href": f"{base_url}?{urlencode(query)}"})
    if not (short and reverse):
        query = [*kept, ("marker", page[0]["id"])] if page else list(kept)
        query.append(("page_reverse", "True"))
        out.append({"rel": "previous", "href": f"{base_url}?{urlencode(query)}"})
    return out
