"""One generic repository: read and write any resource through its tables.

Objects go in and come out as API-shaped dicts keyed by wire name (composite
attributes as dicts, list attributes as lists), hidden attributes included.
Lists select only the columns the caller asked for, filter, sort and page in
SQL (keyset paging: a marker costs one indexed lookup, never an OFFSET scan)
and load list attributes with one query per child table. Secret attributes
are sealed on the way in and opened on the way out (:mod:`vpnaas.db.secrets`),
so every reader gets the value and no caller names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from vpnaas.db.revisions import bump, revisions_of, revisions_query
from vpnaas.db.secrets import Sealer
from vpnaas.db.tables import ChildTable, Schema
from vpnaas.spec import Field, Resource
from vpnaas.spec.kinds import NO_MATCH, Kind
from vpnaas.spec.structured import ListOf

__all__ = ["FilterHook", "Hooks", "ListQuery", "Loader", "Repo", "Scope"]


Clause = ColumnElement[bool]
#: the columns a read selects, and per attribute: name, first column, width,
#: and the kind's loader (None when the single column value is the value)
_Plan = tuple[
    list[sa.Column[Any]], list[tuple[str, int, int, Callable[[Sequence[Any]], Any] | None]]
]


def _sealed(values: Sequence[Any]) -> Any:
    """The loader step of a secret attribute: :meth:`Repo._load_rows` opens it
    with the repository's :class:`Sealer` (plans are shared by every key set)."""
    raise AssertionError("opened by the repository")


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


class Repo:
    """Generic reads and writes over one connection (one transaction)."""

    def __init__(
        self,
        conn: Connection,
        schema: Schema,
        hooks: Hooks | None = None,
        *,
        sealer: Sealer | None = None,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.hooks = hooks or Hooks()
        self.sealer = sealer or Sealer()
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
        wanted = self._wanted(res, fields)
        if scope is not None and scope.clause is not None:  # a custom rule: build it
            stmt = sa.select(*self._select_columns(res, wanted)).where(
                table.c.id == obj_id, scope.clause
            )
            row = self.conn.execute(stmt.with_for_update() if lock else stmt).first()
        else:
            owner = scope is not None and scope.project is not None
            params = {"obj_id": obj_id, "scope_project": scope.project if scope else None}
            key = ("get", res.member, tuple(f.name for f in wanted), lock, owner)
            row = self.conn.execute(
                self.prepared(key, lambda: self._get_stmt(res, wanted, lock, owner)), params
            ).first()
        if row is None:
            return None
        objs = self._load_rows(res, wanted, [row])
        self._load_children_of(res, wanted, objs[0])
        return objs[0]

    def _get_stmt(self, res: Resource, wanted: list[Field], lock: bool, owner: bool) -> Any:
        table = self.schema.table(res)
        where = [table.c.id == sa.bindparam("obj_id")]
        if owner:
            where.append(table.c.project_id == sa.bindparam("scope_project"))
        stmt = sa.select(*self._select_columns(res, wanted)).where(*where)
        return stmt.with_for_update() if lock else stmt

    def prepared(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """A statement built once per schema and reused with new parameters
        (building one costs several times more than running it)."""
        stmt = self.schema.statements.get(key)
        if stmt is None:
            stmt = self.schema.statements[key] = build()
        return stmt

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
        objs = self._load_rows(res, wanted, self.conn.execute(stmt).all())
        if query.reverse:
            objs.reverse()
        if objs:
            if query.limit:
                ids = [obj["id"] for obj in objs]
                self._load_children(res, wanted, objs, table.c.id.in_(ids))
            else:
                self._load_children(res, wanted, objs, sa.and_(sa.true(), *where))
        return objs

    def value(self, res: Resource, obj_id: str, column: str) -> Any:
        """One column of the object ``obj_id`` (None if there is none): for
        rules that need a single stored value, not the whole object. Not for
        a secret: its column is empty when sealed (read it with ``get``)."""
        fld = res.by_name.get(column)
        assert fld is None or not fld.secret, f"{column} is sealed: read it with get()"
        table = self.schema.table(res)
        stmt = self.prepared(
            ("value", res.member, column),
            lambda: sa.select(table.c[column]).where(table.c.id == sa.bindparam("obj_id")),
        )
        return self.conn.scalar(stmt, {"obj_id": obj_id})

    def ids_by(self, res: Resource, column: str, value: Any) -> list[str]:
        """Ids of the objects whose ``column`` equals ``value``."""
        table = self.schema.table(res)
        stmt = self.prepared(
            ("ids_by", res.member, column),
            lambda: (
                sa.select(table.c.id)
                .where(table.c[column] == sa.bindparam("value"))
                .order_by(table.c.id)
            ),
        )
        return list(self.conn.scalars(stmt, {"value": value}))

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
        objs = self._load_rows(res, wanted, rows)
        if objs:
            self._load_children(res, wanted, objs, sa.and_(sa.true(), *where))
        return objs

    # --- writes ----------------------------------------------------------------

    def insert(self, res: Resource, obj: Mapping[str, Any]) -> None:
        """Store a new object (``obj`` carries every stored attribute)."""
        table = self.schema.table(res)
        self.touched.add(res.member)
        stmt = self.prepared(("insert", res.member), lambda: sa.insert(table))
        self.conn.execute(stmt, self._columns_of(res, obj, res.stored))
        for fld in res.child_tables:
            self._write_children(res, fld, obj["id"], obj.get(fld.name) or [])

    def update(self, res: Resource, obj_id: str, changes: Mapping[str, Any]) -> None:
        """Store ``changes`` (wire name → full new value) on ``obj_id``."""
        table = self.schema.table(res)
        self.touched.add(res.member)
        plain = [f for f in res.stored if f.name in changes]
        if plain:
            values = self._columns_of(res, changes, plain)
            names = tuple(values)
            stmt = self.prepared(
                ("update", res.member, names),
                lambda: (
                    sa.update(table)
                    .where(table.c.id == sa.bindparam("obj_id"))
                    .values({name: sa.bindparam(f"new_{name}") for name in names})
                ),
            )
            self.conn.execute(
                stmt, {"obj_id": obj_id, **{f"new_{k}": v for k, v in values.items()}}
            )
        for fld in res.child_tables:
            if fld.name in changes:
                child = self.schema.child(res, fld)
                stmt = self.prepared(
                    ("delete-children", res.member, fld.name),
                    partial(_delete_children, child),
                )
                self.conn.execute(stmt, {"parent": obj_id})
                self._write_children(res, fld, obj_id, changes[fld.name] or [])

    def delete(self, res: Resource, obj_id: str) -> bool:
        table = self.schema.table(res)
        self.touched.add(res.member)
        stmt = self.prepared(
            ("delete", res.member),
            lambda: sa.delete(table).where(table.c.id == sa.bindparam("obj_id")),
        )
        return self.conn.execute(stmt, {"obj_id": obj_id}).rowcount > 0

    # --- revisions -------------------------------------------------------------

    def bump_revisions(self) -> None:
        """Count this transaction's writes (call just before it commits)."""
        bump(self.conn, self.schema, sorted(self.touched))
        self.touched.clear()

    def revisions(self, members: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """The current write counters of ``members``."""
        sql, params = revisions_query(self.schema, self.conn.dialect.paramstyle, members)
        return revisions_of(params, self.conn.exec_driver_sql(sql, params).all())

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
        return self._plan(res, wanted)[0]

    def _plan(self, res: Resource, wanted: list[Field]) -> _Plan:
        """The columns to select for ``wanted`` and how to read a row back,
        worked out once per resource and attribute set."""
        key = (res.member, tuple(f.name for f in wanted))
        plan = self.schema.plans.get(key)
        if plan is None:
            cols: list[sa.Column[Any]] = []
            steps: list[tuple[str, int, int, Callable[[Sequence[Any]], Any] | None]] = []
            for fld in wanted:
                if fld.stored and not fld.in_child_table:
                    field_cols = self.schema.field_columns(res, fld)
                    simple = len(field_cols) == 1 and type(fld.kind).load is Kind.load
                    load = _sealed if fld.secret else None if simple else fld.kind.load
                    steps.append((fld.name, len(cols), len(field_cols), load))
                    cols.extend(field_cols)
            plan = self.schema.plans[key] = (cols, steps)
        return plan

    def _load_rows(
        self, res: Resource, wanted: list[Field], rows: Iterable[Sequence[Any]]
    ) -> list[dict[str, Any]]:
        steps = self._plan(res, wanted)[1]
        if all(load is None for _, _, _, load in steps):
            names = [name for name, _, _, _ in steps]
            return [dict(zip(names, row, strict=False)) for row in rows]
        steps = [
            (name, start, width, self.sealer.open if load is _sealed else load)
            for name, start, width, load in steps
        ]
        objs = []
        for row in rows:
            obj: dict[str, Any] = {}
            for name, start, width, load in steps:
                obj[name] = row[start] if load is None else load(row[start : start + width])
            objs.append(obj)
        return objs

    def _load_children_of(self, res: Resource, wanted: list[Field], obj: dict[str, Any]) -> None:
        """List and computed attributes of one object."""
        for fld in wanted:
            if fld.stored and fld.in_child_table:
                child = self.schema.child(res, fld)
                stmt = self.prepared(
                    ("children", res.member, fld.name),
                    partial(_select_children, child),
                )
                assert isinstance(fld.kind, ListOf)
                load = fld.kind.item.load
                obj[fld.name] = [
                    load(row) for row in self.conn.execute(stmt, {"parent": obj["id"]})
                ]
        self._run_loaders(res, wanted, [obj])

    def _run_loaders(self, res: Resource, wanted: list[Field], objs: list[dict[str, Any]]) -> None:
        loaders: list[Loader] = []
        for fld in wanted:
            if not fld.stored:
                loader = self.hooks.loaders.get((res.member, fld.name))
                if loader is not None and loader not in loaders:
                    loaders.append(loader)
        for loader in loaders:
            loader.load(self, objs)

    def _load_children(
        self, res: Resource, wanted: list[Field], objs: list[dict[str, Any]], parents: Clause
    ) -> None:
        by_id = {obj["id"]: obj for obj in objs}
        table = self.schema.table(res)
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
        self._run_loaders(res, wanted, objs)

    def _columns_of(
        self, res: Resource, obj: Mapping[str, Any], fields: Iterable[Field]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for fld in fields:
            cols = self.schema.field_columns(res, fld)
            stored = (
                self.sealer.seal(obj[fld.name]) if fld.secret else fld.kind.store(obj[fld.name])
            )
            for col, value in zip(cols, stored, strict=True):
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
        self.conn.execute(
            self.prepared(
                ("insert-children", res.member, fld.name), lambda: sa.insert(child.table)
            ),
            rows,
        )

    def _where(self, res: Resource, query: ListQuery, scope: Scope | None) -> list[Clause]:
        where: list[Clause] = []
        condition = scope.condition(self.schema.table(res)) if scope is not None else None
        if condition is not None:
            where.append(condition)
        aliases = dict(res.filter_aliases)
        for name, given in query.filters.items():
            name = aliases.get(name, name)
            values = [v for v in given if v is not NO_MATCH]
            hook = self.hooks.filters.get((res.member, name))
            if not values:
                where.append(sa.false())
            elif hook is not None:
                where.append(hook.clause(self.schema, values))
            elif res.field(name).secret:
                cols = self.schema.field_columns(res, res.field(name))
                where.append(self.sealer.matches(cols, values))
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


def _delete_children(child: ChildTable) -> Any:
    return sa.delete(child.table).where(child.parent == sa.bindparam("parent"))


def _select_children(child: ChildTable) -> Any:
    return (
        sa.select(*child.values)
        .where(child.parent == sa.bindparam("parent"))
        .order_by(child.position)
    )
