"""Per-resource write counters: every write transaction bumps the counters
of the resources it touched; cached list responses compare them (see
:mod:`vpnaas.api.cache`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection

from vpnaas.db.statements import Statement
from vpnaas.db.tables import Schema

__all__ = ["all_revisions_query", "bump", "marker", "revisions_of", "revisions_query"]

#: the DB-API parameter marker of each paramstyle (for hand-written SQL)
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1"}


def marker(paramstyle: str) -> str:
    """The DB-API parameter marker of ``paramstyle`` (for hand-written SQL)."""
    return _PLACEHOLDER.get(paramstyle, "?")


def bump(conn: Connection, schema: Schema, members: Sequence[str]) -> None:
    """Add one to the write counter of each of ``members`` (an upsert)."""
    dialect = conn.dialect.name
    stmt = schema.statements.get(Statement.BUMP, dialect, (), lambda: _upsert(dialect, schema))
    for member in members:
        conn.execute(stmt, {"member": member})


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
