"""The status columns of many objects of one table, read and written in a
fixed number of statements (an agent's report may change hundreds of
connections at once: docs/agent-protocol.md).

Plain table helpers: the caller says which write counter it moved
(``Repo.touched``), as every other write does. Each row written here has
its ``row_revision`` emptied by the same UPDATE (the column's ``onupdate``,
:mod:`vpnaas.db.tables`), so that bump numbers it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["load_columns", "write_columns"]


def load_columns(
    conn: sa.Connection, table: sa.Table, ids: Sequence[str], columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``columns`` of each of ``ids`` that exists, by id, in one query."""
    if not ids:
        return {}
    query = sa.select(table.c.id, *(table.c[name] for name in columns)).where(
        table.c.id.in_(list(ids))
    )
    return {row.id: {name: row._mapping[name] for name in columns} for row in conn.execute(query)}


def write_columns(
    conn: sa.Connection, table: sa.Table, changes: Mapping[str, Mapping[str, Any]]
) -> None:
    """Set the given columns of each id in ``changes`` (every entry with the
    same columns), in one statement."""
    if not changes:
        return
    names = sorted(next(iter(changes.values())))
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("key"))
        .values({name: sa.bindparam(f"new_{name}") for name in names})
    )
    conn.execute(
        stmt,
        [{"key": key, **{f"new_{n}": values[n] for n in names}} for key, values in changes.items()],
    )
