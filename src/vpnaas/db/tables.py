"""Tables derived from the spec: one per resource, one per list attribute.

Column types come from the field kinds; enumerations are plain strings (the
spec validates them, so a new algorithm needs no migration). References
become foreign keys that refuse to delete a row still pointed at; list items
live in child tables deleted with their parent. A secret attribute also has
a column for its sealed value and one for its digest. Constraint names follow one
naming convention so that every database reports the same names.

Every resource table also has a row write counter, ``row_revision``: any
UPDATE built on the table empties it (the column's ``onupdate``), a new row
starts empty, and the transaction's write counters fill it just before the
commit (:func:`vpnaas.db.revisions.bump`). Cached lists use it to read only
the rows written since they were built (:mod:`vpnaas.api.lists`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.util import find_tables

from vpnaas.db.secrets import DIGEST_LENGTH, sealed_length
from vpnaas.db.sessions import sessions_table
from vpnaas.db.statements import StatementCache
from vpnaas.db.tunnels import tunnels_table
from vpnaas.spec import Catalog, Field, Resource, catalog
from vpnaas.spec.kinds import Column, Str
from vpnaas.spec.structured import ListOf, Record

__all__ = ["NAMING_CONVENTION", "ROW_REVISION", "ChildTable", "Schema", "column_name", "schema"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

#: the row write counter of every resource table (see the module docstring)
ROW_REVISION = "row_revision"

_TYPES = {"string": sa.String, "integer": sa.Integer, "boolean": sa.Boolean}

#: MySQL/MariaDB tables compare and sort strings by code point, as SQLite,
#: PostgreSQL (with ``COLLATE "C"``) and Python do, and hold any character
TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def column_name(field: Field, suffix: str = "") -> str:
    """The column for ``field`` (``router:external`` → ``router_external``)."""
    return field.name.replace(":", "_") + suffix


def _field_columns(field: Field) -> tuple[Column, ...]:
    """The kind's columns; a secret also gets its sealed value and digest
    (see :mod:`vpnaas.db.secrets`)."""
    cols = field.kind.columns()
    if not field.secret:
        return cols
    assert isinstance(field.kind, Str), f"{field.name}: secrets are strings"
    assert not field.sort, f"{field.name}: a sealed value has no order"
    return (
        *cols,
        Column("_sealed", "string", sealed_length(field.kind.max_len), nullable=True),
        Column("_digest", "string", DIGEST_LENGTH, nullable=True),
    )


def _sa_type(col: Column) -> sa.types.TypeEngine[Any]:
    if col.type == "string":
        return sa.String(col.length)
    engine_type: sa.types.TypeEngine[Any] = _TYPES[col.type]()
    return engine_type


@dataclass(frozen=True)
class ChildTable:
    """Where one list attribute's items live."""

    table: sa.Table
    parent: sa.Column[str]
    position: sa.Column[int]
    values: tuple[sa.Column[object], ...]


class Schema:
    """The metadata, and for each resource its table and child tables.

    Reach a resource's table with :meth:`table` and a list attribute's with
    :meth:`child`, both by name; nothing else hands them out.
    """

    def __init__(self, cat: Catalog) -> None:
        self.metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
        self._tables: dict[str, sa.Table] = {}
        self._columns: dict[tuple[str, str], tuple[sa.Column[object], ...]] = {}
        self._children: dict[tuple[str, str], ChildTable] = {}
        #: statements built once and reused (:mod:`vpnaas.db.statements`)
        self.statements = StatementCache()
        self._by_member = {r.member: r for r in cat.resources}
        for resource in cat.resources:
            self._add(resource)
        #: one counter per resource, bumped by every transaction that writes it
        self.revisions = sa.Table(
            "revisions",
            self.metadata,
            sa.Column("resource", sa.String(64), primary_key=True),
            sa.Column("number", sa.BigInteger, nullable=False),
            **TABLE_OPTIONS,
        )
        #: console logins (:mod:`vpnaas.db.sessions`)
        self.sessions = sessions_table(self.metadata, **TABLE_OPTIONS)
        #: the data plane's telemetry per connection (:mod:`vpnaas.db.tunnels`)
        self.tunnels = tunnels_table(self.metadata, **TABLE_OPTIONS)

    def table(self, member: str) -> sa.Table:
        """The table of resource ``member`` (``"port"``)."""
        return self._tables[member]

    def child(self, member: str, field: str) -> ChildTable:
        """Where the items of list attribute ``field`` of ``member`` live."""
        return self._children[(member, field)]

    def resource(self, member: str) -> Resource:
        """The resource ``member`` this schema was built from."""
        return self._by_member[member]

    def row_revision(self, member: str) -> sa.Column[int] | None:
        """The row write counter of ``member``'s table (None: not a resource)."""
        table = self._tables.get(member)
        return None if table is None else table.c[ROW_REVISION]

    def field_columns(self, resource: Resource, field: Field) -> tuple[sa.Column[object], ...]:
        return self._columns[(resource.member, field.name)]

    def members_read_by(self, clause: sa.ClauseElement) -> set[str]:
        """The resources whose tables or child tables ``clause`` reads."""
        owners = {table.name: member for member, table in self._tables.items()}
        owners.update({child.table.name: member for (member, _), child in self._children.items()})
        found = find_tables(clause, check_columns=True)
        return {owners[table.name] for table in found if table.name in owners}

    def _ref_table(self, member: str) -> str:
        return self._by_member[member].collection

    def _add(self, resource: Resource) -> None:
        cols: list[sa.Column[object]] = []
        indexes: list[sa.Index] = []
        for field in resource.stored:
            field_cols = [self._column(field, col) for col in _field_columns(field)]
            self._columns[(resource.member, field.name)] = tuple(field_cols)
            cols.extend(field_cols)
        assert all(col.name != ROW_REVISION for col in cols), f"{resource.member}: {ROW_REVISION}"
        # empty until the write counters fill it at commit: a row written and
        # not yet counted (docs/decisions.md, "Lists kept up to date by rows")
        revision = sa.Column(ROW_REVISION, sa.BigInteger, nullable=True, onupdate=sa.null())
        table = sa.Table(resource.collection, self.metadata, *cols, revision, **TABLE_OPTIONS)
        for field in resource.stored:
            if field.name == "id":
                continue
            first = self._columns[(resource.member, field.name)][0]
            if field.sort or field.index or field.ref:
                indexes.append(sa.Index(None, first, table.c.id))
        indexes.append(sa.Index(None, revision))
        for index in indexes:
            table.append_constraint(index)
        self._tables[resource.member] = table
        for field in resource.child_tables:
            self._add_child(resource, field)

    def _column(self, field: Field, col: Column) -> sa.Column[object]:
        name = column_name(field, col.suffix)
        args: list[Any] = []
        if field.ref and not col.suffix:
            args.append(sa.ForeignKey(f"{self._ref_table(field.ref)}.id"))
        return sa.Column(
            name,
            _sa_type(col),
            *args,
            primary_key=field.name == "id",
            nullable=col.nullable,
        )

    def _add_child(self, resource: Resource, field: Field) -> None:
        kind = field.kind
        assert isinstance(kind, ListOf)
        parent_table = self._tables[resource.member]
        record = kind.item if isinstance(kind.item, Record) else None
        value_cols: list[sa.Column[object]] = []
        for col in kind.item.columns():
            name = "value" if not col.suffix else col.suffix.lstrip("_")
            args: list[Any] = []
            sub = next((s for s in record.keys if s.name == name), None) if record else None
            ref = getattr(sub.kind, "ref", None) if sub else getattr(kind.item, "ref", None)
            if ref:
                args.append(sa.ForeignKey(f"{self._ref_table(ref)}.id"))
            value_cols.append(sa.Column(name, _sa_type(col), *args, nullable=col.nullable))
        parent = sa.Column(
            "parent_id",
            sa.String(36),
            sa.ForeignKey(f"{parent_table.name}.id", ondelete="CASCADE"),
            primary_key=True,
        )
        position = sa.Column("position", sa.Integer, primary_key=True, autoincrement=False)
        table = sa.Table(
            f"{resource.collection}_{column_name(field)}",
            self.metadata,
            parent,
            position,
            *value_cols,
            **TABLE_OPTIONS,
        )
        table.append_constraint(sa.Index(None, *value_cols))
        if kind.unique_across:
            table.append_constraint(
                sa.UniqueConstraint(*(table.c[name] for name in kind.unique_across))
            )
        self._children[(resource.member, field.name)] = ChildTable(
            table=table, parent=parent, position=position, values=tuple(value_cols)
        )


@cache
def schema() -> Schema:
    """The schema of this release (the same for every configuration)."""
    return Schema(catalog())
