"""Per-resource write counters: every write transaction bumps the counters
of the resources it touched; cached list responses compare them (see
:mod:`vpnaas.api.cache`).

The bump also numbers the rows the transaction wrote: each row it wrote
has an empty ``row_revision`` (:mod:`vpnaas.db.tables`), which gets the
resource's new counter value. The counter row stays locked from its bump to
the commit (PostgreSQL, MariaDB; SQLite has one writer), so values are
handed out in commit order and a row's value is never below a counter
value a reader saw before the row committed: a list that reflects counter
``N`` is brought up to date by the rows numbered above ``N``
(:mod:`vpnaas.api.lists`). Deletes also bump a counter of their own
(:func:`deletes_of`), which such a list cannot follow row by row.

Numbering the transaction's rows takes no lock it could wait for while
it holds the counter: ``SKIP LOCKED`` passes over the rows other
transactions are writing (their own bump numbers them), and as the
UPDATE re-runs the foreign-key checks of a row this transaction wrote,
whose share locks on the parents conflict only with ``FOR UPDATE``, rows
are locked ``FOR NO KEY UPDATE`` everywhere (:mod:`vpnaas.db.reads`). A row committed
empty by a write that bumped nothing (``vpnaas db rotate-key``) is numbered
by the next bump, and lists read it again until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection

from vpnaas.db.statements import Statement
from vpnaas.db.tables import Schema

__all__ = [
    "all_revisions_query",
    "bump",
    "deletes_of",
    "marker",
    "revisions_of",
    "revisions_query",
]

#: the DB-API parameter marker of each paramstyle (for hand-written SQL)
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1"}


def marker(paramstyle: str) -> str:
    """The DB-API parameter marker of ``paramstyle`` (for hand-written SQL)."""
    return _PLACEHOLDER.get(paramstyle, "?")


def deletes_of(member: str) -> str:
    """The counter of the deletes of ``member`` (bumped with ``member``'s)."""
    return f"{member}/deletes"


def bump(conn: Connection, schema: Schema, members: Sequence[str]) -> None:
    """Add one to the write counter of each of ``members`` (an upsert, in
    the order given: callers sort them), then number the rows of each
    that this transaction wrote with its new value."""
    dialect = conn.dialect.name
    stmt = schema.statements.get(Statement.BUMP, dialect, (), lambda: _upsert(dialect, schema))
    for member in members:
        conn.execute(stmt, {"member": member})
    for member in members:
        column = schema.row_revision(member)
        if column is not None:
            _number_rows(conn, schema, member, column)


def _number_rows(conn: Connection, schema: Schema, member: str, column: sa.Column[int]) -> None:
    """Give the rows of ``member`` this transaction wrote (empty
    ``row_revision``) the member's counter value: one UPDATE, whose
    subquery on PostgreSQL passes over the rows other transactions hold
    (SQLite has one writer; MariaDB cannot lock in a subquery of the
    table it updates, so it finds the rows first)."""
    dialect = conn.dialect.name
    table = column.table
    if dialect in ("mysql", "mariadb"):
        find = schema.statements.get(
            Statement.QUERY, f"unnumbered:{member}", (), lambda: _unnumbered(column)
        )
        ids = list(conn.scalars(find))
        if ids:
            by_id = schema.statements.get(
                Statement.QUERY,
                f"number-rows:{member}",
                (),
                lambda: (
                    sa.update(table)
                    .where(table.c.id.in_(sa.bindparam("ids", expanding=True)))
                    .values({column.name: _counter(schema)})
                ),
            )
            conn.execute(by_id, {"member": member, "ids": ids})
        return

    def build() -> Any:
        if dialect == "postgresql":
            mine = table.c.id.in_(_unnumbered(column).scalar_subquery())
        else:
            mine = column.is_(None)
        return sa.update(table).where(mine).values({column.name: _counter(schema)})

    update = schema.statements.get(Statement.QUERY, f"number-rows:{member}", (dialect,), build)
    conn.execute(update, {"member": member})


def _unnumbered(column: sa.Column[int]) -> Any:
    """The ids of the table's rows with an empty ``row_revision`` that no
    other transaction holds (``FOR NO KEY UPDATE``: a foreign-key check's
    share lock does not hide a row)."""
    table = column.table
    return (
        sa.select(table.c.id)
        .where(column.is_(None))
        .with_for_update(skip_locked=True, key_share=True)
    )


def _counter(schema: Schema) -> Any:
    """The value of the ``:member`` write counter, as a scalar subquery."""
    counters = schema.revisions
    return (
        sa.select(counters.c.number)
        .where(counters.c.resource == sa.bindparam("member"))
        .scalar_subquery()
    )


def _upsert(dialect: str, schema: Schema) -> Any:
    table = schema.revisions
    values = {"resource": sa.bindparam("member"), "number": 1}
    if dialect == "postgresql":
        return (
            postgresql.insert(table)
            .values(values)
            .on_conflict_do_update(
                index_elements=[table.c.resource], set_={"number": table.c.number + 1}
            )
        )
    if dialect in ("mysql", "mariadb"):
        return mysql.insert(table).values(values).on_duplicate_key_update(number=table.c.number + 1)
    return (
        sqlite.insert(table)
        .values(values)
        .on_conflict_do_update(
            index_elements=[table.c.resource], set_={"number": table.c.number + 1}
        )
    )


def revisions_query(
    schema: Schema, paramstyle: str, members: Iterable[str]
) -> tuple[str, tuple[str, ...]]:
    """Plain SQL reading the write counters of ``members`` (it runs before
    every cached list, so it skips statement building; built once per set)."""
    wanted = tuple(sorted(set(members)))

    def build() -> str:
        marks = ", ".join([marker(paramstyle)] * len(wanted))
        table = schema.revisions.name
        return f"SELECT resource, number FROM {table} WHERE resource IN ({marks})"  # noqa: S608

    return schema.statements.get(Statement.REVISIONS, paramstyle, wanted, build), wanted


def all_revisions_query(schema: Schema) -> str:
    """Plain SQL reading every write counter (one row per resource written
    so far; :mod:`vpnaas.db.counters`)."""
    return f"SELECT resource, number FROM {schema.revisions.name}"  # noqa: S608


def revisions_of(
    wanted: tuple[str, ...], rows: Iterable[Sequence[Any]]
) -> tuple[tuple[str, int], ...]:
    found = {str(row[0]): int(row[1]) for row in rows}
    return tuple((member, found.get(member, 0)) for member in wanted)
