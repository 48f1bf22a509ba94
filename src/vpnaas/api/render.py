"""Response documents: members, collections and their paging links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from vpnaas.api.query import Params
from vpnaas.spec import Resource
from vpnaas.spec.resource import OWNER, OWNER_ALIAS

__all__ = ["item", "links"]


def item(
    res: Resource,
    obj: Mapping[str, Any],
    fields: Sequence[str] | None = None,
    echo: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire form of ``obj``: visible attributes (or exactly ``fields``),
    ``tenant_id`` mirroring ``project_id``, echoed composite values on top."""
    names = res.visible if fields is None else fields
    out: dict[str, Any] = {}
    for name in names:
        source = OWNER if name == OWNER_ALIAS else name
        if source in obj:
            out[name] = obj[source]
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
    """``<collection>_links`` for a page (``behaviour.md`` §8.3)."""
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
