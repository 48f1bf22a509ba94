"""The words other layers use to ask the repository for rows.

A :class:`ListQuery` is a parsed list request, a :class:`Scope` says which
rows a caller may see, and :class:`Hooks` carries the resource-specific
filters and loaders the generic repository calls by name. None of them
runs SQL; :mod:`vpnaas.db.repo` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

if TYPE_CHECKING:
    from vpnaas.db.repo import Repo
    from vpnaas.db.tables import Schema

__all__ = ["Clause", "FilterHook", "Hooks", "ListQuery", "Loader", "Scope"]

#: a SQL condition
Clause = ColumnElement[bool]


@dataclass(frozen=True)
class Scope:
    """Which rows a caller may see: those of ``project`` (the usual owner
    rule), those matching ``clause`` (a resource's own visibility rule), or,
    with neither, every row."""

    clause: Clause | None = None
    project: str | None = None

    def condition(self, table: sa.Table) -> Clause | None:
        if self.project is not None:
            return table.c.project_id == self.project
        return self.clause


@dataclass
class ListQuery:
    """A parsed list request (see :mod:`vpnaas.api.query`)."""

    fields: tuple[str, ...] | None = None
    filters: dict[str, list[Any]] = field(default_factory=dict)
    sorts: list[tuple[str, bool]] = field(default_factory=list)
    limit: int = 0
    marker: str | None = None
    reverse: bool = False


@dataclass(frozen=True)
class FilterHook:
    """The SQL condition of a filter that is not a plain column match."""

    clause: Callable[[Schema, Sequence[Any]], Clause]
    #: the resources whose tables (child tables included) the condition reads
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Loader:
    """Fills attributes computed from other tables into a batch of objects."""

    load: Callable[[Repo, list[dict[str, Any]]], None]
    #: the resources whose tables (child tables included) ``load`` reads
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Hooks:
    """Resource-specific pieces the generic repository calls by name, each
    with the resources it reads (what cached answers depend on, see
    :mod:`vpnaas.api.reads`)."""

    filters: Mapping[tuple[str, str], FilterHook] = field(default_factory=dict)
    loaders: Mapping[tuple[str, str], Loader] = field(default_factory=dict)

    def reads_of(self, member: str) -> set[str]:
        """What the filters and loaders registered for ``member`` read."""
        hooks: list[FilterHook | Loader] = [
            *(hook for (owner, _), hook in self.filters.items() if owner == member),
            *(hook for (owner, _), hook in self.loaders.items() if owner == member),
        ]
        return {read for hook in hooks for read in hook.reads}
