"""Reads by id and by condition.

Objects come out as API-shaped dicts keyed by wire name (composite
attributes as dicts, list attributes as lists), hidden attributes included,
or in a layout the caller gives (:mod:`vpnaas.db.plans`, which also plans
the columns a read selects). List attributes load with one query per child
table. Secret attributes are opened on the way out (:mod:`vpnaas.db.secrets`),
so every reader gets the value and no caller names them. Lists with paging
are :mod:`vpnaas.db.paging`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vpnaas.db.plans import (
    PLANS_KEPT,
    Layout,
    converted_rows,
    object_layout,
    picker,
    plan,
    row_shape,
    sealed,
)
from vpnaas.db.query import Clause, Hooks, Loader, Scope
from vpnaas.db.secrets import Sealer
from vpnaas.db.statements import Statement
from vpnaas.db.tables import ChildTable, Schema
from vpnaas.spec import Field, Resource
from vpnaas.spec.kinds import Kind
from vpnaas.spec.structured import ListOf

__all__ = ["PLANS_KEPT", "Layout", "Reader", "picker", "plan"]


class Reader:
    """Reads over one connection (one transaction)."""

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
        table = self.schema.table(res.member)
        wanted = self.wanted(res, fields)
        if scope is not None and scope.clause is not None:  # a custom rule: build it
            stmt = sa.select(*self.select_columns(res, wanted)).where(
                table.c.id == obj_id, scope.clause
            )
            row = self.conn.execute(stmt.with_for_update(key_share=True) if lock else stmt).first()
        else:
            owner = scope is not None and scope.project is not None
            params = {"obj_id": obj_id, "scope_project": scope.project if scope else None}
            shape = (tuple(f.name for f in wanted), lock, owner)
            stmt = self.prepared(
                Statement.GET, res.member, shape, lambda: self._get_stmt(res, wanted, lock, owner)
            )
            row = self.conn.execute(stmt, params).first()
        if row is None:
            return None
        objs = self.load_rows(res, wanted, [row])
        self._load_children_of(res, wanted, objs[0])
        return objs[0]

    def _get_stmt(self, res: Resource, wanted: list[Field], lock: bool, owner: bool) -> Any:
        table = self.schema.table(res.member)
        where = [table.c.id == sa.bindparam("obj_id")]
        if owner:
            where.append(table.c.project_id == sa.bindparam("scope_project"))
        stmt = sa.select(*self.select_columns(res, wanted)).where(*where)
        return stmt.with_for_update(key_share=True) if lock else stmt

    def prepared(
        self, kind: Statement, member: str, shape: tuple[Hashable, ...], build: Callable[[], Any]
    ) -> Any:
        """A statement built once per schema and reused with new parameters
        (building one costs several times more than running it)."""
        return self.schema.statements.get(kind, member, shape, build)

    def exists(self, res: Resource, *where: Clause) -> bool:
        table = self.schema.table(res.member)
        return self.conn.execute(sa.select(table.c.id).where(*where).limit(1)).first() is not None

    def value(self, res: Resource, obj_id: str, column: str) -> Any:
        """One column of the object ``obj_id`` (None if there is none): for
        rules that need a single stored value, not the whole object. Not for
        a secret: its column is empty when sealed (read it with ``get``)."""
        fld = res.by_name.get(column)
        assert fld is None or not fld.secret, f"{column} is sealed: read it with get()"
        table = self.schema.table(res.member)
        stmt = self.prepared(
            Statement.VALUE,
            res.member,
            (column,),
            lambda: sa.select(table.c[column]).where(table.c.id == sa.bindparam("obj_id")),
        )
        return self.conn.scalar(stmt, {"obj_id": obj_id})

    def ids_by(self, res: Resource, column: str, value: Any) -> list[str]:
        """Ids of the objects whose ``column`` equals ``value``."""
        table = self.schema.table(res.member)
        stmt = self.prepared(
            Statement.IDS_BY,
            res.member,
            (column,),
            lambda: (
                sa.select(table.c.id)
                .where(table.c[column] == sa.bindparam("value"))
                .order_by(table.c.id)
            ),
        )
        return list(self.conn.scalars(stmt, {"value": value}))

    def ids(self, res: Resource, *where: Clause) -> list[str]:
        table = self.schema.table(res.member)
        return list(self.conn.scalars(sa.select(table.c.id).where(*where).order_by(table.c.id)))

    def find(self, res: Resource, *where: Clause) -> list[dict[str, Any]]:
        """Every object matching ``where`` (internal lookups), ordered by id."""
        table = self.schema.table(res.member)
        wanted = self.wanted(res, None)
        rows = self.conn.execute(
            sa.select(*self.select_columns(res, wanted)).where(*where).order_by(table.c.id)
        ).all()
        objs = self.load_rows(res, wanted, rows)
        if objs:
            self.load_children(res, wanted, objs, sa.and_(sa.true(), *where))
        return objs

    def column(self, res: Resource, name: str) -> sa.Column[Any]:
        """The (first) column of attribute ``name``."""
        return self.schema.field_columns(res, res.field(name))[0]

    # --- planning and loading --------------------------------------------------

    def wanted(
        self, res: Resource, fields: Iterable[str] | None, extra: Iterable[str] = ()
    ) -> list[Field]:
        """The attributes a read of ``fields`` loads: those, the sort keys in
        ``extra``, and what policy and paging need (all when ``None``)."""
        if fields is None:
            return list(res.fields)
        names = {*fields, *extra, *res.policy.target_fields, "id"}
        if res.owned:
            names.add("project_id")
        return [f for f in res.fields if f.name in names]

    def select_columns(self, res: Resource, wanted: list[Field]) -> list[sa.Column[Any]]:
        return plan(self.schema, res.member, tuple(f.name for f in wanted))[0]

    def load_rows(
        self,
        res: Resource,
        wanted: list[Field],
        rows: Iterable[Sequence[Any]],
        layout: Layout | None = None,
        *,
        raw: bool = False,
    ) -> list[dict[str, Any]]:
        """Dicts from rows selected by :meth:`select_columns`: objects keyed by
        attribute name, or the keys of ``layout`` (whose attributes are
        ``wanted``). ``raw``: the rows come from :meth:`fetch`."""
        if layout is None:
            layout = object_layout(self.schema, res.member, tuple(f.name for f in wanted))
        dialect = self.conn.dialect if raw else None
        empty, keys, pick, converted, rest = row_shape(self.schema, res.member, layout, dialect)
        if not converted and not rest and len(keys) == len(empty):
            return [dict(zip(keys, pick(row), strict=True)) for row in rows]
        rest = [
            (key, start, end, self.sealer.open if load is sealed else load)
            for key, start, end, load in rest
        ]
        objs = []
        for row in rows:
            obj = empty.copy()
            obj.update(zip(keys, pick(row), strict=True))
            for key, index, convert in converted:
                obj[key] = convert(row[index])
            for key, start, end, load in rest:
                obj[key] = load(row[start:end])
            objs.append(obj)
        return objs

    def fetch(self, stmt: Any, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        """The rows of ``stmt`` as the DB-API cursor returns them: no
        SQLAlchemy row objects and none of its result processors (load them
        with ``raw=True``, which applies those). A list of 1,000 spends a
        fifth of its fetch making row objects (``bench/README.md``, c)."""
        result = self.conn.execute(stmt, params)
        dbapi_error = self.conn.dialect.loaded_dbapi.Error
        try:
            rows: Sequence[Sequence[Any]] = result.cursor.fetchall()
        except dbapi_error as exc:  # wrapped as SQLAlchemy's own fetch does
            raise sa.exc.DBAPIError.instance(None, None, exc, dbapi_error) from exc
        finally:
            result.close()
        return rows

    def _load_children_of(self, res: Resource, wanted: list[Field], obj: dict[str, Any]) -> None:
        """List and computed attributes of one object."""
        for fld in wanted:
            if fld.stored and fld.in_child_table:
                child = self.schema.child(res.member, fld.name)
                stmt = self.prepared(
                    Statement.CHILDREN,
                    res.member,
                    (fld.name,),
                    partial(_select_children, child),
                )
                assert isinstance(fld.kind, ListOf)
                load = fld.kind.item.load
                obj[fld.name] = [
                    load(row) for row in self.conn.execute(stmt, {"parent": obj["id"]})
                ]
        self.run_loaders(res, wanted, [obj])

    def load_children(
        self,
        res: Resource,
        wanted: list[Field],
        objs: list[dict[str, Any]],
        parents: Clause | None = None,
    ) -> None:
        """List and computed attributes of ``objs``, the rows ``parents`` selects
        (each item appended to its parent's list: rows come in position order);
        without ``parents``, those of ``objs`` by their ids, through a prepared
        statement (a few rows: building one would cost more than running it)."""
        table = self.schema.table(res.member)
        ids = {"ids": [obj["id"] for obj in objs]} if parents is None else None
        for fld in wanted:
            if fld.stored and fld.in_child_table:
                child = self.schema.child(res.member, fld.name)
                lists: dict[str, list[Any]] = {}
                for obj in objs:
                    obj[fld.name] = lists[obj["id"]] = []
                if parents is None:
                    stmt = self.prepared(
                        Statement.CHILDREN, res.member, (fld.name, "ids"), partial(_by_ids, child)
                    )
                else:
                    stmt = (
                        sa.select(child.parent, *child.values)
                        .where(child.parent.in_(sa.select(table.c.id).where(parents)))
                        .order_by(child.parent, child.position)
                    )
                item_kind = fld.kind.item if isinstance(fld.kind, ListOf) else fld.kind
                rows = converted_rows(
                    self.fetch(stmt, ids), [child.parent, *child.values], self.conn.dialect
                )
                if len(child.values) == 1 and type(item_kind).load is Kind.load:
                    for parent, value in rows:  # the value is the item
                        found = lists.get(parent)
                        if found is not None:
                            found.append(value)
                else:
                    for row in rows:
                        found = lists.get(row[0])
                        if found is not None:
                            found.append(item_kind.load(row[1:]))
        self.run_loaders(res, wanted, objs)

    def loaders_of(self, res: Resource, wanted: list[Field]) -> list[Loader]:
        """The hooks' loaders of the computed attributes in ``wanted``, once each."""
        loaders: list[Loader] = []
        for fld in wanted:
            if not fld.stored:
                loader = self.hooks.loaders.get((res.member, fld.name))
                if loader is not None and loader not in loaders:
                    loaders.append(loader)
        return loaders

    def run_loaders(self, res: Resource, wanted: list[Field], objs: list[dict[str, Any]]) -> None:
        """Fill the computed attributes of ``objs`` (loaders are handed the
        whole repository, so :class:`vpnaas.db.repo.Repo` runs them)."""
        raise NotImplementedError


def _select_children(child: ChildTable) -> Any:
    return (
        sa.select(*child.values)
        .where(child.parent == sa.bindparam("parent"))
        .order_by(child.position)
    )


def _by_ids(child: ChildTable) -> Any:
    return (
        sa.select(child.parent, *child.values)
        .where(child.parent.in_(sa.bindparam("ids", expanding=True)))
        .order_by(child.parent, child.position)
    )
