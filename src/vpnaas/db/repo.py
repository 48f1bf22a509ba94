"""One generic repository: read and write any resource through its tables.

Objects go in and come out as API-shaped dicts keyed by wire name (composite
attributes as dicts, list attributes as lists), hidden attributes included.
Lists select only the columns the caller asked for, filter, sort and page in
SQL (keyset paging: a marker costs one indexed lookup, never an OFFSET scan)
and load list attributes with one query per child table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from vpnaas.db.tables import Schema
from vpnaas.spec import Field, Resource
from vpnaas.spec.kinds import NO_MATCH, ListOf

__all__ = ["ListQuery", "Repo", "Scope"]

Clause = ColumnElement[bool]
#: builds the SQL condition of a filter that is not a plain column match
FilterHook = Callable[[Schema, Sequence[Any]], Clause]
#: fills attributes computed from other tables into a batch of objects
Loader = Callable[["Repo", list[dict[str, Any]]], None]


@dataclass(frozen=True)
class Scope:
    """Which rows a caller may see: ``None`` clause means every row."""

    clause: Clause | None = None


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
class Hooks:
    """Resource-specific pieces the generic repository calls by name."""

    filters: Mapping[tuple[str, str], FilterHook] = field(default_factory=dict)
    loaders: Mapping[tuple[str, str], Loader] = field(default_factory=dict)
    #: other resources whose rows a resource's reads depend on (loaders, visibility)
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Repo:
    """Generic reads and writes over one connection (one transaction)."""

    def __init__(self, conn: Connection, schema: Schema, hooks: Hooks | None = None) -> None:
        self.conn = conn
        self.schema = schema
        self.hooks = hooks or Hooks()
        self.dialect = conn.dialect.name
        self.touched: set[str] = set()

    # --- reads -----------------------------------------------------------------

    def get(
        self,
        res: Resource,
        obj_id: str,
        scope: Scope | None = None,
        *,
        lock: bool = False,
        fields: Iterable[str] | None = None,
    ) -> dict[str, Any] | None:
        """The object ``obj_id`` if it exists within ``scope``."""
        table = self.schema.table(res)
        where: list[Clause] = [table.c.id == obj_id]
        if scope is not None and scope.clause is not None:
            where.append(scope.clause)
        wanted = self._wanted(res, fields)
        stmt = sa.select(*self._select_columns(res, wanted)).where(*where)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        objs = [self._load_row(res, wanted, row)]
        self._load_children(res, wanted, objs, table.c.id == obj_id)
        return objs[0]

    def exists(self, res: Resource, *where: Clause) -> bool:
        table = self.schema.table(res)
        return self.conn.execute(sa.select(table.c.id).where(*where).limit(1)).first() is not None

    def page(
        self, res: Resource, query: ListQuery, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """The page of objects ``query`` asks for, in its order."""
        table = self.schema.table(res)
        where = self._where(res, query, scope)
        terms = self._sort_terms(res, query.sorts)
        if query.reverse:
            terms = [(expr, not asc) for expr, asc in terms]
        if query.limit and query.marker is not None:
            after = self._after_marker(table, terms, query.marker, where)
            if after is None:
                return []
            where.append(after)
        wanted = self._wanted(res, query.fields, extra=[name for name, _ in query.sorts])
        stmt = (
            sa.select(*self._select_columns(res, wanted))
            .where(*where)
            .order_by(*(expr.asc() if asc else expr.desc() for expr, asc in terms))
        )
        if query.limit:
            stmt = stmt.limit(query.limit)
        rows = self.conn.execute(stmt).all()
        objs = [self._load_row(res, wanted, row) for row in rows]
        if query.reverse:
            objs.reverse()
        if objs:
            if query.limit:
                ids = [obj["id"] for obj in objs]
                self._load_children(res, wanted, objs, table.c.id.in_(ids))
            else:
                self._load_children(res, wanted, objs, sa.and_(sa.true(), *where))
        return objs

    def ids(self, res: Resource, *where: Clause) -> list[str]:
        table = self.schema.table(res)
        return list(self.conn.scalars(sa.select(table.c.id).where(*where).order_by(table.c.id)))

    def find(self, res: Resource, *where: Clause) -> list[dict[str, Any]]:
        """Every object matching ``where`` (internal lookups), ordered by id."""
        table = self.schema.table(res)
        wanted = self._wanted(res, None)
        rows = self.conn.execute(
            sa.select(*self._select_columns(res, wanted)).where(*where).order_by(table.c.id)
        ).all()
        objs = [self._load_row(res, wanted, row) for row in rows]
        if objs:
            self._load_children(res, wanted, objs, sa.and_(sa.true(), *where))
        return objs

    # --- writes ----------------------------------------------------------------

    def insert(self, res: Resource, obj: Mapping[str, Any]) -> None:
        """Store a new object (``obj`` carries every stored attribute)."""
        table = self.schema.table(res)
        self.touched.add(res.member)
        self.conn.execute(sa.insert(table).values(self._columns_of(res, obj, res.stored)))
        for fld in res.child_tables:
            self._write_children(res, fld, obj["id"], obj.get(fld.name) or [])

    def update(self, res: Resource, obj_id: str, changes: Mapping[str, Any]) -> None:
        """Store ``changes`` (wire name → full new value) on ``obj_id``."""
        table = self.schema.table(res)
        self.touched.add(res.member)
        plain = [f for f in res.stored if f.name in changes]
        if plain:
            self.conn.execute(
                sa.update(table)
                .where(table.c.id == obj_id)
                .values(self._columns_of(res, changes, plain))
            )
        for fld in res.child_tables:
            if fld.name in changes:
                child = self.schema.child(res, fld)
                self.conn.execute(sa.delete(child.table).where(child.parent == obj_id))
                self._write_children(res, fld, obj_id, changes[fld.name] or [])

    def delete(self, res: Resource, obj_id: str) -> bool:
        table = self.schema.table(res)
        self.touched.add(res.member)
        return self.conn.execute(sa.delete(table).where(table.c.id == obj_id)).rowcount > 0

    # --- revisions -------------------------------------------------------------

    def bump_revisions(self) -> None:
        """Count this transaction's writes (call just before it commits)."""
        bump(self.conn, self.schema, sorted(self.touched))
        self.touched.clear()

    def revisions(self, members: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """The current write counters of ``members``."""
        wanted = sorted(set(members))
        table = self.schema.revisions
        rows = dict(
            self.conn.execute(
                sa.select(table.c.resource, table.c.number).where(table.c.resource.in_(wanted))
            ).all()
        )
        return tuple((m, int(rows.get(m, 0))) for m in wanted)

    # --- helpers ---------------------------------------------------------------

    def column(self, res: Resource, name: str) -> sa.Column[Any]:
        """The (first) column of attribute ``name``."""
        return self.schema.field_columns(res, res.field(name))[0]

    def _wanted(
        self, res: Resource, fields: Iterable[str] | None, extra: Iterable[str] = ()
    ) -> list[Field]:
        if fields is None:
            return list(res.fields)
        names = {*fields, *extra, *res.policy.target_fields, "id"}
        if res.owned:
            names.add("project_id")
        return [f for f in res.fields if f.name in names]

    def _select_columns(self, res: Resource, wanted: list[Field]) -> list[sa.Column[Any]]:
        cols: list[sa.Column[Any]] = []
        for fld in wanted:
            if fld.stored and not fld.in_child_table:
                cols.extend(self.schema.field_columns(res, fld))
        return cols

    def _load_row(self, res: Resource, wanted: list[Field], row: sa.Row[Any]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        i = 0
        for fld in wanted:
            if fld.stored and not fld.in_child_table:
                width = len(self.schema.field_columns(res, fld))
                obj[fld.name] = fld.kind.load(row[i : i + width])
                i += width
        return obj

    def _load_children(
        self, res: Resource, wanted: list[Field], objs: list[dict[str, Any]], parents: Clause
    ) -> None:
        by_id = {obj["id"]: obj for obj in objs}
        table = self.schema.table(res)
        loaders: list[Loader] = []
        for fld in wanted:
            if fld.stored and fld.in_child_table:
                child = self.schema.child(res, fld)
                for obj in objs:
                    obj[fld.name] = []
                stmt = (
                    sa.select(child.parent, *child.values)
                    .where(child.parent.in_(sa.select(table.c.id).where(parents)))
                    .order_by(child.parent, child.position)
                )
                item_kind = fld.kind.item if isinstance(fld.kind, ListOf) else fld.kind
                for row in self.conn.execute(stmt):
                    owner = by_id.get(row[0])
                    if owner is not None:
                        owner[fld.name].append(item_kind.load(row[1:]))
            elif not fld.stored:
                loader = self.hooks.loaders.get((res.member, fld.name))
                if loader is not None and loader not in loaders:
                    loaders.append(loader)
        for loader in loaders:
            loader(self, objs)

    def _columns_of(
        self, res: Resource, obj: Mapping[str, Any], fields: Iterable[Field]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for fld in fields:
            cols = self.schema.field_columns(res, fld)
            for col, value in zip(cols, fld.kind.store(obj[fld.name]), strict=True):
                values[col.name] = value
        return values

    def _write_children(self, res: Resource, fld: Field, obj_id: str, items: Sequence[Any]) -> None:
        if not items:
            return
        child = self.schema.child(res, fld)
        assert isinstance(fld.kind, ListOf)
        item_kind = fld.kind.item
        rows = []
        for position, item in enumerate(items):
            row = {child.parent.name: obj_id, child.position.name: position}
            for col, value in zip(child.values, item_kind.store(item), strict=True):
                row[col.name] = value
            rows.append(row)
        self.conn.execute(sa.insert(child.table), rows)

    def _where(self, res: Resource, query: ListQuery, scope: Scope | None) -> list[Clause]:
        where: list[Clause] = []
        if scope is not None and scope.clause is not None:
            where.append(scope.clause)
        aliases = dict(res.filter_aliases)
        for name, given in query.filters.items():
            name = aliases.get(name, name)
            values = [v for v in given if v is not NO_MATCH]
            hook = self.hooks.filters.get((res.member, name))
            if not values:
                where.append(sa.false())
            elif hook is not None:
                where.append(hook(self.schema, values))
            else:
                where.append(self.column(res, name).in_(values))
        return where

    def _sort_terms(self, res: Resource, sorts: list[tuple[str, bool]]) -> list[tuple[Any, bool]]:
        """ORDER BY terms, never NULL: a nullable key sorts nulls first (ascending)."""
        terms: list[tuple[Any, bool]] = []
        keys = [name for name, _ in sorts]
        for name, asc in sorts:
            col = self.column(res, name)
            if col.nullable:
                terms.append((sa.case((col.is_(None), 0), else_=1), asc))
                blank: Any = "" if isinstance(col.type, sa.String) else 0
                terms.append((self._collate(sa.func.coalesce(col, blank), col), asc))
            else:
                terms.append((self._collate(col, col), asc))
        if "id" not in keys:
            terms.append((self.schema.table(res).c.id, True))
        return terms

    def _collate(self, expr: Any, col: sa.Column[Any]) -> Any:
        """Order strings by code point on every database, as Python does."""
        if not isinstance(col.type, sa.String):
            return expr
        if self.dialect == "postgresql":
            return expr.collate("C")
        if self.dialect in ("mysql", "mariadb"):
            return expr.collate("utf8mb4_bin")
        return expr

    def _after_marker(
        self, table: sa.Table, terms: list[tuple[Any, bool]], marker: str, where: list[Clause]
    ) -> Clause | None:
        exprs = [expr for expr, _ in terms]
        row = self.conn.execute(sa.select(*exprs).where(table.c.id == marker, *where)).first()
        if row is None:
            return None
        ors: list[Clause] = []
        for i, (expr, asc) in enumerate(terms):
            equal = [exprs[j] == row[j] for j in range(i)]
            ors.append(sa.and_(*equal, expr > row[i] if asc else expr < row[i]))
        return sa.or_(*ors)


def bump(conn: Connection, schema: Schema, members: Sequence[str]) -> None:
    """Add one to the write counter of each of ``members`` (an upsert)."""
    table = schema.revisions
    for member in members:
        values = {"resource": member, "number": 1}
        stmt: Any
        if conn.dialect.name == "postgresql":
            stmt = postgresql.insert(table).values(values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.resource], set_={"number": table.c.number + 1}
            )
        elif conn.dialect.name in ("mysql", "mariadb"):
            stmt = mysql.insert(table).values(values)
            stmt = stmt.on_duplicate_key_update(number=table.c.number + 1)
        else:
            stmt = sqlite.insert(table).values(values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.resource], set_={"number": table.c.number + 1}
            )
        conn.execute(stmt)
