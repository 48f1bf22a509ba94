"""Structured kinds: small objects stored flattened (``lifetime``, ``dpd``)
and lists stored in child tables (``peer_cidrs``, ``endpoints``,
``allocation_pools``, ``fixed_ips``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from vpnaas.spec.kinds import Column, Invalid, Kind

__all__ = ["Composite", "ListOf", "Record", "Sub", "to_list"]


@dataclass(frozen=True)
class Sub:
    """One key of a :class:`Composite`: its kind and create-time default."""

    name: str
    kind: Kind
    default: Any


@dataclass(frozen=True)
class Composite(Kind):
    """A small object stored flattened (``lifetime``, ``dpd``).

    ``null`` means ``{}``; only the declared keys are allowed; each present
    key is checked by its sub-kind. On create, missing keys take their
    defaults; on update they keep the stored values (a key-by-key merge).
    """

    keys: tuple[Sub, ...]
    filterable = False

    def convert(self, value: Any) -> Any:
        return {} if value is None else value

    def validate(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"'{value}' is not a dictionary")
        names = {sub.name for sub in self.keys}
        unexpected = [key for key in value if key not in names]
        if unexpected:
            raise Invalid("Unexpected keys supplied: " + ", ".join(map(str, unexpected)))
        for sub in self.keys:
            if sub.name in value:
                sub.kind.validate(value[sub.name])

    def normalise(self, value: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``value`` over ``base`` and convert every key for storage."""
        merged = {sub.name: value.get(sub.name, base.get(sub.name)) for sub in self.keys}
        return {sub.name: sub.kind.convert(merged[sub.name]) for sub in self.keys}

    def defaults(self) -> dict[str, Any]:
        return {sub.name: sub.default for sub in self.keys}

    def columns(self) -> tuple[Column, ...]:
        return tuple(
            Column(f"_{sub.name}", col.type, col.length, col.nullable)
            for sub in self.keys
            for col in sub.kind.columns()
        )

    def store(self, value: Any) -> tuple[Any, ...]:
        return tuple(value[sub.name] for sub in self.keys)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The keys, in column order."""
        return tuple(sub.name for sub in self.keys)

    def load(self, values: Sequence[Any]) -> Any:
        return dict(zip(self.names, values, strict=False))


def to_list(value: Any) -> list[Any]:
    """neutron-lib's ``convert_to_list``: None → [], scalar → [scalar]."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


@dataclass(frozen=True)
class ListOf(Kind):
    """A list stored in a child table, one row per item, order kept.

    ``unique`` refuses duplicates (Neutron's list validators); ``item`` checks
    each element. Not filterable by default.
    """

    item: Kind
    unique: bool = False
    convert_scalar: bool = True
    unique_across: tuple[str, ...] = ()  # item keys unique over all parents
    filterable = False
    stored_as_rows = True

    def convert(self, value: Any) -> Any:
        return to_list(value) if self.convert_scalar else value

    def validate(self, value: Any) -> None:
        if not isinstance(value, list):
            raise Invalid(f"'{value}' is not a list")
        if self.unique:
            seen: list[Any] = []
            dups: list[str] = []
            for item in value:
                if item in seen and str(item) not in dups:
                    dups.append(str(item))
                seen.append(item)
            if dups:
                raise Invalid("Duplicate items in the list: '{}'".format(", ".join(dups)))
        for item in value:
            self.item.validate(item)

    def columns(self) -> tuple[Column, ...]:
        return self.item.columns()


@dataclass(frozen=True)
class Record(Kind):
    """A small object stored as one child-table row (an item of a ListOf).

    ``keys`` are the exact keys; each is checked by its kind.
    """

    keys: tuple[Sub, ...] = field(default=())
    required: bool = True

    def validate(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"'{value}' is not a dictionary")
        names = [sub.name for sub in self.keys]
        unexpected = [key for key in value if key not in names]
        if unexpected:
            raise Invalid("Unexpected keys supplied: " + ", ".join(map(str, unexpected)))
        for sub in self.keys:
            if sub.name not in value:
                if self.required:
                    raise Invalid(
                        f"Validation of dictionary's keys failed. "
                        f"Expected keys: {set(names)} Provided keys: {set(value)}"
                    )
                continue
            sub.kind.validate(value[sub.name])

    def columns(self) -> tuple[Column, ...]:
        return tuple(
            Column(f"_{sub.name}", col.type, col.length, True)
            for sub in self.keys
            for col in sub.kind.columns()
        )

    def store(self, value: Any) -> tuple[Any, ...]:
        return tuple(value.get(sub.name) for sub in self.keys)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The keys, in column order."""
        return tuple(sub.name for sub in self.keys)

    def load(self, values: Sequence[Any]) -> Any:
        return dict(zip(self.names, values, strict=False))
