"""How a read is planned, and how its rows become dicts.

A read selects only the columns of the attributes asked for: its *plan*,
worked out once per resource and attribute set. A row becomes a dict of a
*layout*: an object keyed by attribute name, or whatever keys a caller asks
for (the API's wire form of a list, ``tenant_id`` beside ``project_id``),
built in one step per row. Rows fetched straight from the DB-API cursor get
SQLAlchemy's result processors here, where a column has one (booleans on
SQLite and MySQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from vpnaas.db.tables import Schema
from vpnaas.spec.kinds import Kind

__all__ = [
    "PLANS_KEPT",
    "Layout",
    "RowShape",
    "converted_rows",
    "object_layout",
    "picker",
    "plan",
    "row_shape",
    "sealed",
]

#: how to read one attribute back from a row: name, first column, width,
#: and the kind's loader (None when the single column value is the value)
Step = tuple[str, int, int, Callable[[Sequence[Any]], Any] | None]
#: the columns a read selects, and the steps that read a row back
Plan = tuple[list[sa.Column[Any]], list[Step]]

#: plans kept: one per resource and set of attributes asked for (``fields=``)
PLANS_KEPT = 1024


def sealed(values: Sequence[Any]) -> Any:
    """The loader step of a secret attribute: :meth:`vpnaas.db.reads.Reader.load_rows` opens
    it with the repository's :class:`Sealer` (plans are shared by every key set)."""
    raise AssertionError("opened by the repository")


@lru_cache(maxsize=PLANS_KEPT)
def plan(schema: Schema, member: str, names: tuple[str, ...]) -> Plan:
    """The columns to select for attributes ``names`` of ``member`` (stored
    in its own table, in the resource's order) and how to read a row back."""
    res = schema.resource(member)
    cols: list[sa.Column[Any]] = []
    steps: list[Step] = []
    for fld in res.fields:
        if fld.name in names and fld.stored and not fld.in_child_table:
            field_cols = schema.field_columns(res, fld)
            simple = len(field_cols) == 1 and type(fld.kind).load is Kind.load
            load = sealed if fld.secret else None if simple else fld.kind.load
            steps.append((fld.name, len(cols), len(field_cols), load))
            cols.extend(field_cols)
    return cols, steps


#: the keys of the dicts a read makes, in order, each with the attribute
#: whose value it holds (one attribute may fill several keys)
Layout = tuple[tuple[str, str], ...]
#: a composite or secret attribute: key, first column, end, loader
Load = tuple[str, int, int, Callable[[Sequence[Any]], Any]]
#: a plain column the driver's value of which SQLAlchemy converts (booleans
#: on SQLite and MySQL): key, column, converter
Converted = tuple[str, int, Callable[[Any], Any]]
#: how :meth:`vpnaas.db.reads.Reader.load_rows` turns a row into a dict: an empty dict (the
#: layout's keys in order), the keys of the plain columns and a function
#: picking their values out of a row, the converted columns, and the other
#: attributes (list and computed attributes keep their empty value here:
#: :meth:`vpnaas.db.reads.Reader.load_children` and the loaders fill them by name)
RowShape = tuple[
    dict[str, Any], tuple[str, ...], Callable[[Sequence[Any]], Any], list[Converted], list[Load]
]


def picker(indexes: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A function returning the items at ``indexes`` of its argument, as a
    tuple (:func:`operator.itemgetter`, which returns one item bare)."""
    if len(indexes) == 1:
        first = indexes[0]
        return lambda row: (row[first],)
    if not indexes:
        return lambda row: ()
    return itemgetter(*indexes)


def _converters(cols: Sequence[sa.Column[Any]], dialect: Dialect | None) -> list[Any]:
    """Per column, the result processor SQLAlchemy applies to the driver's
    value on ``dialect`` (None where there is none, and for every column when
    ``dialect`` is None: rows SQLAlchemy fetched are converted already). For
    vpnaas' column types the processor does not depend on the driver's type code."""
    if dialect is None:
        return [None] * len(cols)
    return [col.type.dialect_impl(dialect).result_processor(dialect, None) for col in cols]


def _converted(load: Callable[[Sequence[Any]], Any], converters: Sequence[Any]) -> Any:
    def converted_load(values: Sequence[Any]) -> Any:
        return load([c(v) if c else v for c, v in zip(converters, values, strict=True)])

    return converted_load


@lru_cache(maxsize=PLANS_KEPT)
def row_shape(
    schema: Schema, member: str, layout: Layout, dialect: Dialect | None = None
) -> RowShape:
    """The :data:`RowShape` of ``layout``'s plan: per row, one copy of a dict,
    one C-level pick of the plain columns and a call per converted column,
    composite or secret. ``dialect``: the rows come from its driver's cursor
    (:meth:`vpnaas.db.reads.Reader.fetch`), so SQLAlchemy's result
    processors are applied here."""
    cols, steps = plan(schema, member, tuple(dict.fromkeys(name for _, name in layout)))
    converters = _converters(cols, dialect)
    by_name = {name: (start, width, load) for name, start, width, load in steps}
    keys: list[str] = []
    picked: list[int] = []
    converted: list[Converted] = []
    rest: list[Load] = []
    for key, name in layout:
        if name not in by_name:
            assert key == name, f"{key}: list and computed attributes are filled by name"
            continue
        start, width, load = by_name[name]
        if load is None and converters[start] is None:
            keys.append(key)
            picked.append(start)
        elif load is None:
            converted.append((key, start, converters[start]))
        else:
            step = converters[start : start + width]
            if any(step):
                assert load is not sealed, f"{name}: a secret is a string"
                load = _converted(load, step)
            rest.append((key, start, start + width, load))
    empty: dict[str, Any] = dict.fromkeys(key for key, _ in layout)
    return empty, tuple(keys), picker(picked), converted, rest


@lru_cache(maxsize=PLANS_KEPT)
def object_layout(schema: Schema, member: str, names: tuple[str, ...]) -> Layout:
    """The layout of an object read for attributes ``names``: each stored
    attribute under its own name, in the plan's order."""
    return tuple((name, name) for name, _, _, _ in plan(schema, member, names)[1])


def converted_rows(
    rows: Sequence[Sequence[Any]], cols: Sequence[sa.Column[Any]], dialect: Dialect
) -> Sequence[Sequence[Any]]:
    """``rows`` fetched from the DB-API cursor, with SQLAlchemy's result
    processors applied where ``cols`` have one."""
    converters = _converters(cols, dialect)
    if not any(converters):
        return rows
    return [[c(v) if c else v for c, v in zip(converters, row, strict=True)] for row in rows]
