"""Query strings of list and show requests: ``fields``, filters, sorting, paging.

Parsed against the resource's spec (``docs/api/common.md`` §filters, §fields,
§sorting, §paging): filters are the filterable attributes, repeated values
mean OR, values go through the attribute's converter;
``sort_key``/``sort_dir`` come in pairs over sortable attributes;
``limit``/``marker``/``page_reverse`` select a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from vpnaas import errors
from vpnaas.db.query import ListQuery
from vpnaas.spec import Resource
from vpnaas.spec.kinds import INT_MAX, Kind, Unconvertible

__all__ = ["Params", "filter_kind", "parse_fields", "parse_list", "parse_params"]

RESERVED = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"})
SORT_DIRS = ("asc", "desc")


@dataclass(frozen=True)
class Params:
    """The query string as ordered pairs (kept for paging links)."""

    pairs: tuple[tuple[str, str], ...]

    def all(self, name: str) -> list[str]:
        """Every non-empty value of ``name`` (Neutron's ``list_args``)."""
        return [v for k, v in self.pairs if k == name and v]

    def last(self, name: str) -> str | None:
        found = [v for k, v in self.pairs if k == name]
        return found[-1] if found else None


NO_PARAMS = Params(())


def parse_params(query_string: str) -> Params:
    """Split a raw query string; a NUL character anywhere is refused."""
    if not query_string:
        return NO_PARAMS
    pairs = tuple(parse_qsl(query_string, keep_blank_values=True))
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise errors.HTTPBadRequest(msg="Query parameters may not contain NUL characters")
    return Params(pairs)


def parse_fields(res: Resource, params: Params) -> tuple[str, ...] | None:
    """The requested ``fields`` that exist and are visible, or None for all."""
    asked = params.all("fields")
    if not asked:
        return None
    visible = set(res.visible)
    return tuple(dict.fromkeys(name for name in asked if name in visible))


def filter_kind(res: Resource, name: str) -> Kind:
    """The kind that parses the values of filter ``name``."""
    extra = dict(res.extra_filters)
    if name in extra:
        return extra[name]
    return res.field(dict(res.filter_aliases).get(name, name)).kind


def _filters(res: Resource, params: Params, validate: bool) -> dict[str, list[object]]:
    names = list(dict.fromkeys(k for k, _ in params.pairs if k not in RESERVED))
    unknown = [name for name in names if name not in res.filters]
    if unknown and validate:
        raise errors.HTTPBadRequest(msg=f"{unknown!r} is invalid attribute for filtering")
    filters: dict[str, list[object]] = {}
    for name in names:
        if name in unknown:
            continue
        kind = filter_kind(res, name)
        key = "project_id" if name == "tenant_id" else name
        values = filters.setdefault(key, [])
        for raw in (v for k, v in params.pairs if k == name):
            try:
                values.append(kind.parse_filter(raw))
            except Unconvertible as exc:
                raise errors.InvalidInput(error_message=exc.message) from None
    return filters


def _limit(params: Params, max_limit: int) -> int:
    raw = params.last("limit")
    limit = 0
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            limit = -1
        if limit < 0:
            raise errors.BadRequest(
                resource="limit",
                msg=f"Limit must be an integer 0 or greater and not '{raw}'",
            )
    if max_limit > 0:
        limit = min(limit, max_limit) if limit else max_limit
    return min(limit, INT_MAX)  # a larger page than any table holds is the same page


def _sorts(res: Resource, params: Params) -> list[tuple[str, bool]]:
    keys, dirs = params.all("sort_key"), params.all("sort_dir")
    if len(keys) != len(dirs):
        raise errors.HTTPBadRequest(msg="The number of sort_keys and sort_dirs must be same")
    bad_keys = [k for k in keys if k not in res.sort_keys]
    if bad_keys:
        raise errors.HTTPBadRequest(msg=f"{bad_keys!r} is invalid attribute for sort_keys")
    bad_dirs = [d for d in dirs if d not in SORT_DIRS]
    if bad_dirs:
        raise errors.HTTPBadRequest(
            msg=f"{bad_dirs!r} is invalid value for sort_dirs, valid value is 'asc' and 'desc'"
        )
    sorts: list[tuple[str, bool]] = []
    for key, direction in zip(keys, dirs, strict=True):
        key = "project_id" if key == "tenant_id" else key
        if key not in (k for k, _ in sorts):
            sorts.append((key, direction == "asc"))
    return sorts


def parse_list(
    res: Resource, params: Params, *, filter_validation: bool = True, max_limit: int = -1
) -> ListQuery:
    """Everything a list request asks for, or a 400."""
    filters = _filters(res, params, filter_validation)
    limit = _limit(params, max_limit)
    sorts = _sorts(res, params)
    page_reverse = (params.last("page_reverse") or "").lower() == "true"
    return ListQuery(
        fields=parse_fields(res, params),
        filters=filters,
        sorts=sorts,
        limit=limit,
        marker=params.last("marker") if limit else None,
        reverse=page_reverse and bool(limit),
    )
