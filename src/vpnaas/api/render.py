"""Response documents: members, collections and their paging links."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from vpnaas.api.query import Params
from vpnaas.db.plans import Layout, picker
from vpnaas.spec import Resource
from vpnaas.spec.resource import OWNER, OWNER_ALIAS

__all__ = ["item", "links", "list_layout", "strip"]


#: key lists kept: one per set of ``fields=`` asked for (any a client sends)
PAIRS_KEPT = 1024


#: the keys of a response, the attributes they are read from, and a
#: function picking those attributes' values out of an object (a tuple)
Wire = tuple[tuple[str, ...], tuple[tuple[str, str], ...], Callable[[Any], tuple[Any, ...]]]


def _wire(res: Resource, fields: Sequence[str] | None) -> Wire:
    return _wire_of(res.visible if fields is None else tuple(fields))


@lru_cache(maxsize=PAIRS_KEPT)
def _wire_of(names: tuple[str, ...]) -> Wire:
    pairs = tuple((n, OWNER if n == OWNER_ALIAS else n) for n in names)
    return names, pairs, picker([source for _, source in pairs])


def item(
    res: Resource,
    obj: Mapping[str, Any],
    fields: Sequence[str] | None = None,
    echo: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire form of ``obj``: visible attributes (or exactly ``fields``),
    ``tenant_id`` mirroring ``project_id``, echoed composite values on top."""
    names, pairs, pick = _wire(res, fields)
    try:  # the usual case: the object has every attribute (one pick in C)
        out = dict(zip(names, pick(obj), strict=True))
    except KeyError:
        out = {name: obj[source] for name, source in pairs if source in obj}
    if echo:
        for name, value in echo.items():
            if name in out:
                out[name] = value
    return out


def list_layout(res: Resource) -> Layout:
    """How a list without ``fields`` is read straight into its wire form
    (one dict per row, no :func:`item`): the visible attributes in order,
    ``tenant_id`` holding ``project_id``, then the hidden attributes the
    policy check or a loader may read, which :func:`strip` takes out once
    the check is done."""
    computed = any(not f.stored for f in res.fields)
    hidden = tuple(
        f.name
        for f in res.fields
        if not f.visible and (computed or f.name in res.policy.target_fields)
    )
    return _layout_of(res.visible, hidden)


@lru_cache(maxsize=PAIRS_KEPT)
def _layout_of(visible: tuple[str, ...], hidden: tuple[str, ...]) -> Layout:
    return (*_wire_of(visible)[1], *((name, name) for name in hidden))


def strip(res: Resource, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects read with :func:`list_layout`, without the keys that are not
    shown (the hidden attributes, and whatever else a loader filled in):
    the same dicts :func:`item` would make of them, each changed in place."""
    size = len(res.visible)
    shown = None
    for obj in objs:
        if len(obj) > size:
            shown = shown or frozenset(res.visible)
            for key in [key for key in obj if key not in shown]:
                del obj[key]
    return objs


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
