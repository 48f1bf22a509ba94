"""Lists: filter, sort and page in SQL.

Paging is by keyset: a marker costs one indexed lookup of the marker row's
sort values, never an OFFSET scan, and the page is the rows after those
values in the query's order (``docs/api/common.md`` §paging). Every sort
ends with ``id``, so the order is total and a page never repeats a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from vpnaas.db.query import Clause, ListQuery, Scope
from vpnaas.db.reads import Layout, Reader
from vpnaas.db.statements import Statement
from vpnaas.spec import Resource
from vpnaas.spec.kinds import NO_MATCH

__all__ = ["Pager"]

#: an ORDER BY term and whether it is ascending
Term = tuple[Any, bool]


class Pager(Reader):
    """Lists of one resource, a page at a time."""

    def page(
        self,
        res: Resource,
        query: ListQuery,
        scope: Scope | None = None,
        layout: Layout | None = None,
        extra: Sequence[Clause] = (),
    ) -> list[dict[str, Any]]:
        """The page of objects ``query`` asks for, in its order; with a
        ``layout`` (for a query without ``fields``), dicts with exactly its
        keys, read for the attributes it names (see :meth:`Reader.load_rows`).
        ``extra``: more conditions on the rows (not on a marker row)."""
        table = self.schema.table(res.member)
        where = [*self.where(res, query, scope), *extra]
        terms = self.sort_terms(res, query.sorts)
        if query.reverse:
            terms = [(expr, not asc) for expr, asc in terms]
        if query.limit and query.marker is not None:
            after = self._after_marker(table, terms, query.marker, where)
            if after is None:
                return []
            where.append(after)
        if layout is None:
            wanted = self.wanted(res, query.fields, extra=[name for name, _ in query.sorts])
        else:
            assert query.fields is None, "a layout names the attributes read"
            named = {name for _, name in layout}
            wanted = [f for f in res.fields if f.name in named]
        stmt = (
            sa.select(*self.select_columns(res, wanted))
            .where(*where)
            .order_by(*(expr.asc() if asc else expr.desc() for expr, asc in terms))
        )
        if query.limit:
            stmt = stmt.limit(query.limit)
        objs = self.load_rows(res, wanted, self.fetch(stmt), layout, raw=True)
        if query.reverse:
            objs.reverse()
        if objs:
            if query.limit:  # a page: by the ids of its rows
                self.load_children(res, wanted, objs)
            else:
                self.load_children(res, wanted, objs, sa.and_(sa.true(), *where))
        return objs

    def rows_by_id(
        self, res: Resource, scope: Scope | None, layout: Layout, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The rows ``ids`` within ``scope``, as :meth:`page` reads them with
        ``layout``, in no order: what a kept list reads after a write
        (``vpnaas.api.lists``), through prepared statements (building the
        statement cost more than running it for a few rows). A scope with a
        resource's own rule builds its statement."""
        table = self.schema.table(res.member)
        if scope is not None and scope.clause is not None:
            return self.page(res, ListQuery(), scope, layout, extra=[table.c.id.in_(ids)])
        return self._rows(res, scope, layout, "ids", {"ids": list(ids)})

    def rows_since(
        self, res: Resource, scope: Scope | None, layout: Layout, number: int
    ) -> list[dict[str, Any]]:
        """The rows within ``scope`` (a project's, or every row: not a
        resource's own rule) numbered above ``number`` or not numbered yet,
        as :meth:`rows_by_id` reads them: the ids of :meth:`written_since`
        and their rows in one statement."""
        assert scope is None or scope.clause is None, "a rule's scope: written_since, rows_by_id"
        return self._rows(res, scope, layout, "since", {"since": number})

    def _rows(
        self,
        res: Resource,
        scope: Scope | None,
        layout: Layout,
        which: str,
        params: dict[str, Any],
    ) -> list[dict[str, Any]]:
        table = self.schema.table(res.member)
        named = {name for _, name in layout}
        wanted = [f for f in res.fields if f.name in named]
        owner = scope is not None and scope.project is not None

        def build() -> Any:
            where = [
                table.c.id.in_(sa.bindparam("ids", expanding=True))
                if which == "ids"
                else self._written_rows(res)
            ]
            if owner:
                where.append(table.c.project_id == sa.bindparam("scope_project"))
            return sa.select(*self.select_columns(res, wanted)).where(*where)

        shape = (tuple(f.name for f in wanted), owner, which)
        stmt = self.prepared(Statement.QUERY, f"rows:{res.member}", shape, build)
        params["scope_project"] = scope.project if scope else None
        objs = self.load_rows(res, wanted, self.fetch(stmt, params), layout, raw=True)
        if objs:
            self.load_children(res, wanted, objs)
        return objs

    def written_since(self, res: Resource, number: int) -> list[str]:
        """The ids of the rows numbered above ``number`` or not yet numbered
        (``row_revision``, :mod:`vpnaas.db.revisions`): two index ranges."""
        stmt = self.prepared(
            Statement.QUERY, f"written-since:{res.member}", (), lambda: self._written_since(res)
        )
        return [str(key) for key in self.conn.scalars(stmt, {"since": number})]

    def _written_rows(self, res: Resource) -> Clause:
        """The condition on a table's rows that :meth:`written_since` selects,
        in the form each database plans well."""
        column = self.schema.row_revision(res.member)
        assert column is not None, res.member
        if self.dialect == "postgresql":
            # the ids first, once, then the rows by key: as a semi-join, the
            # plan of the prepared statement follows the table's statistics,
            # and without them PostgreSQL probed the ids once per row of the
            # list (4.8 ms at 1,000 rows, not 1)
            written = sa.func.array(self._written_since(res).scalar_subquery())
            return column.table.c.id == sa.any_(written)
        if self.dialect in ("mysql", "mariadb"):
            # MariaDB runs the semi-join as a dependent subquery, once per row
            # of the list (9 ms at 1,000 rows); both ranges of the index in
            # one condition read only the rows written (0.6 ms)
            return sa.or_(column > sa.bindparam("since"), column.is_(None))
        return column.table.c.id.in_(self._written_since(res).scalar_subquery())

    def _written_since(self, res: Resource) -> Any:
        column = self.schema.row_revision(res.member)
        assert column is not None, res.member
        table = column.table
        return sa.union_all(
            sa.select(table.c.id).where(column > sa.bindparam("since")),
            sa.select(table.c.id).where(column.is_(None)),
        )

    def ordered_ids(self, res: Resource, scope: Scope | None) -> list[str]:
        """The ids of the rows within ``scope``, in the order of a list
        without ``sort_key`` (which :meth:`page` reads them in)."""
        where = self.where(res, ListQuery(), scope)
        terms = self.sort_terms(res, [])
        stmt = (
            sa.select(self.schema.table(res.member).c.id)
            .where(*where)
            .order_by(*(expr.asc() if asc else expr.desc() for expr, asc in terms))
        )
        return [str(row[0]) for row in self.fetch(stmt)]

    def where(self, res: Resource, query: ListQuery, scope: Scope | None) -> list[Clause]:
        """The conditions of ``scope`` and of the query's filters."""
        where: list[Clause] = []
        condition = scope.condition(self.schema.table(res.member)) if scope is not None else None
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

    def sort_terms(self, res: Resource, sorts: list[tuple[str, bool]]) -> list[Term]:
        """ORDER BY terms, never NULL: a nullable key sorts nulls first (ascending)."""
        terms: list[Term] = []
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
            terms.append((self.schema.table(res.member).c.id, True))
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
        self, table: sa.Table, terms: list[Term], marker: str, where: list[Clause]
    ) -> Clause | None:
        """The rows after the marker row in the order of ``terms`` (None when
        the marker is not a row the query can see)."""
        exprs = [expr for expr, _ in terms]
        row = self.conn.execute(sa.select(*exprs).where(table.c.id == marker, *where)).first()
        if row is None:
            return None
        ors: list[Clause] = []
        for i, (expr, asc) in enumerate(terms):
            equal = [exprs[j] == row[j] for j in range(i)]
            ors.append(sa.and_(*equal, expr > row[i] if asc else expr < row[i]))
        return sa.or_(*ors)
