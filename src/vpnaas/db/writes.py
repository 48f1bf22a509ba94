"""Writes, and the write counters they bump.

Objects go in as API-shaped dicts keyed by wire name; list attributes are
written to their child tables (replaced whole on update) and secret
attributes are sealed on the way in (:mod:`vpnaas.db.secrets`). Every
resource a transaction writes is remembered and its counter bumped once,
just before the commit, with its deletes counter when it deleted rows; the
bump numbers the rows written, whose ``row_revision`` each write empties,
a change of a list attribute included (:mod:`vpnaas.db.revisions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property, partial
from typing import Any

import sqlalchemy as sa

from vpnaas.db.reads import Reader
from vpnaas.db.revisions import bump, deletes_of, revisions_of, revisions_query
from vpnaas.db.statements import Statement
from vpnaas.db.tables import ROW_REVISION, ChildTable
from vpnaas.spec import Field, Resource
from vpnaas.spec.structured import ListOf

__all__ = ["Writer"]


class Writer(Reader):
    """Inserts, updates and deletes over one connection (one transaction)."""

    @cached_property
    def touched(self) -> set[str]:
        """The resources this transaction wrote."""
        return set()

    @cached_property
    def deleted(self) -> set[str]:
        """The resources this transaction deleted rows of."""
        return set()

    def insert(self, res: Resource, obj: Mapping[str, Any]) -> None:
        """Store a new object (``obj`` carries every stored attribute)."""
        table = self.schema.table(res.member)
        self.touched.add(res.member)
        stmt = self.prepared(Statement.INSERT, res.member, (), partial(sa.insert, table))
        self.conn.execute(stmt, self._columns_of(res, obj, res.stored))
        for fld in res.child_tables:
            self._write_children(res, fld, obj["id"], obj.get(fld.name) or [])

    def update(self, res: Resource, obj_id: str, changes: Mapping[str, Any]) -> None:
        """Store ``changes`` (wire name → full new value) on ``obj_id``; the
        row is marked written even when only list attributes change."""
        table = self.schema.table(res.member)
        self.touched.add(res.member)
        plain = [f for f in res.stored if f.name in changes]
        if plain or any(fld.name in changes for fld in res.child_tables):
            values = self._columns_of(res, changes, plain)
            names = tuple(values)
            stmt = self.prepared(
                Statement.UPDATE,
                res.member,
                names,
                lambda: (
                    sa.update(table)
                    .where(table.c.id == sa.bindparam("obj_id"))
                    .values(
                        {
                            **{name: sa.bindparam(f"new_{name}") for name in names},
                            ROW_REVISION: sa.null(),
                        }
                    )
                ),
            )
            self.conn.execute(
                stmt, {"obj_id": obj_id, **{f"new_{k}": v for k, v in values.items()}}
            )
        for fld in res.child_tables:
            if fld.name in changes:
                child = self.schema.child(res.member, fld.name)
                stmt = self.prepared(
                    Statement.DELETE_CHILDREN,
                    res.member,
                    (fld.name,),
                    partial(_delete_children, child),
                )
                self.conn.execute(stmt, {"parent": obj_id})
                self._write_children(res, fld, obj_id, changes[fld.name] or [])

    def delete(self, res: Resource, obj_id: str) -> bool:
        table = self.schema.table(res.member)
        self.touched.add(res.member)
        self.deleted.add(res.member)
        stmt = self.prepared(
            Statement.DELETE,
            res.member,
            (),
            lambda: sa.delete(table).where(table.c.id == sa.bindparam("obj_id")),
        )
        return self.conn.execute(stmt, {"obj_id": obj_id}).rowcount > 0

    # --- revisions -------------------------------------------------------------

    def bump_revisions(self) -> None:
        """Count this transaction's writes (call just before it commits)."""
        members = self.touched | {deletes_of(member) for member in self.deleted}
        bump(self.conn, self.schema, sorted(members))
        self.touched.clear()
        self.deleted.clear()

    def revisions(self, members: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """The current write counters of ``members``."""
        sql, params = revisions_query(self.schema, self.conn.dialect.paramstyle, members)
        return revisions_of(params, self.conn.exec_driver_sql(sql, params).all())

    # --- helpers ---------------------------------------------------------------

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
        child = self.schema.child(res.member, fld.name)
        assert isinstance(fld.kind, ListOf)
        item_kind = fld.kind.item
        rows = []
        for position, item in enumerate(items):
            row = {child.parent.name: obj_id, child.position.name: position}
            for col, value in zip(child.values, item_kind.store(item), strict=True):
                row[col.name] = value
            rows.append(row)
        stmt = self.prepared(
            Statement.INSERT_CHILDREN,
            res.member,
            (fld.name,),
            partial(sa.insert, child.table),
        )
        self.conn.execute(stmt, rows)


def _delete_children(child: ChildTable) -> Any:
    return sa.delete(child.table).where(child.parent == sa.bindparam("parent"))
