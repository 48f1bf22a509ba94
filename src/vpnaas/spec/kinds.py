"""Field kinds: what a value of an attribute may be, and how it is stored.

A kind converts a client value (``convert``), checks it (``validate``),
parses a query-string filter value (``parse_filter``) and names the columns
that store it (``columns``). Failures are raised as :class:`Unconvertible`
(Neutron's converter errors: ``InvalidInput``) or :class:`Invalid` (its
validator errors: ``Invalid input for <attr>. Reason: <reason>.``); the API
layer turns them into HTTP errors. Messages follow neutron-lib's wording.
"""

from __future__ import annotations

import ipaddress
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INT_MAX",
    "NO_MATCH",
    "Bool",
    "Cidr",
    "Column",
    "Enum",
    "Int",
    "IntChoice",
    "Invalid",
    "IpAddress",
    "Kind",
    "Name",
    "Str",
    "Unconvertible",
    "Uuid",
    "cidr_reason",
]

#: The largest integer any integer attribute accepts: the range every
#: supported database stores in an INTEGER column (the reference has no
#: bound and fails inside the database instead).
INT_MAX = 2**31 - 1


class _NoMatch:
    """A filter value no stored value can equal (an integer out of range)."""

    def __repr__(self) -> str:
        return "NO_MATCH"


NO_MATCH: Any = _NoMatch()


class Invalid(Exception):
    """A value failed its validator; ``reason`` completes Neutron's sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unconvertible(Exception):
    """A value failed its converter (Neutron answers ``InvalidInput``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    """One stored column: a name suffix and an abstract type the db layer maps."""

    suffix: str
    type: str  # "string", "integer", "boolean"
    length: int = 0
    nullable: bool = False


class Kind:
    """Base kind: any value, stored as a string."""

    filterable = True
    stored_as_rows = False  # True for list kinds, which live in a child table

    def convert(self, value: Any) -> Any:
        """Convert a client value (Neutron's ``convert_to``)."""
        return value

    def validate(self, value: Any) -> None:
        """Check a converted value (Neutron's ``validate``); raise Invalid."""

    def parse_filter(self, raw: str) -> Any:
        """Turn one query-string value into the stored form."""
        return raw

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", 255),)

    def store(self, value: Any) -> tuple[Any, ...]:
        """The column values for ``value``, in ``columns()`` order."""
        return (value,)

    def load(self, values: Sequence[Any]) -> Any:
        """The API value from the stored column values."""
        return values[0]


def _has_nul(value: str) -> bool:
    return "\x00" in value


@dataclass(frozen=True)
class Str(Kind):
    """A JSON string of at most ``max_len`` characters (``type:string``)."""

    max_len: int = 255
    nullable: bool = False

    def validate(self, value: Any) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, str) or _has_nul(value):
            raise Invalid(f"'{value}' is not a valid string")
        if len(value) > self.max_len:
            raise Invalid(f"'{value}' exceeds maximum length of {self.max_len}")

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", self.max_len, self.nullable),)


def _printable(char: str) -> bool:
    category = unicodedata.category(char)
    return not category.startswith("C") and (not category.startswith("Z") or category == "Zs")


@dataclass(frozen=True)
class Name(Str):
    """``name_string``: printable, no leading or trailing space-like character."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not (
            all(_printable(c) for c in value)
            and unicodedata.category(value[0]) != "Zs"
            and unicodedata.category(value[-1]) != "Zs"
        ):
            raise Invalid(f"'{value}' is not a valid string")


@dataclass(frozen=True)
class Enum(Kind):
    """One of a fixed list of strings (``type:values``); stored as a string."""

    values: tuple[str, ...]
    nullable: bool = False

    def validate(self, value: Any) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, str) or value not in self.values:
            raise Invalid(f"{value} is not in valid_values")

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", 64, self.nullable),)


@dataclass(frozen=True)
class IntChoice(Kind):
    """An integer from a short list, converted with ``int()`` (``ip_version``)."""

    values: tuple[int, ...]

    def convert(self, value: Any) -> Any:
        return to_int(value)

    def validate(self, value: Any) -> None:
        if value not in self.values:
            raise Invalid(f"{value} is not in {list(self.values)}")

    def parse_filter(self, raw: str) -> Any:
        number = to_int(raw)
        return number if number in self.values else NO_MATCH

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "integer"),)


_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})


def to_bool(value: Any) -> bool:
    """neutron-lib's ``convert_to_boolean``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise Unconvertible(f"'{value}' cannot be converted to boolean")


@dataclass(frozen=True)
class Bool(Kind):
    """A boolean, with Neutron's lenient converter."""

    def convert(self, value: Any) -> Any:
        return to_bool(value)

    def parse_filter(self, raw: str) -> Any:
        return to_bool(raw)

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "boolean"),)


def to_int(value: Any) -> int:
    """``int(value)`` as neutron-lib's validators do it, refusing NaN/inf."""
    if isinstance(value, bool | int):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise Unconvertible(f"'{value}' is not an integer") from None


@dataclass(frozen=True)
class Int(Kind):
    """An integer in ``[minimum, maximum]``; ``convert`` applies ``int()``."""

    minimum: int = 0
    maximum: int = INT_MAX
    convert_input: bool = True
    nullable: bool = False

    def convert(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        return to_int(value) if self.convert_input else value

    def validate(self, value: Any) -> None:
        if value is None and self.nullable:
            return
        check_int_range(value, self.minimum, self.maximum)

    def parse_filter(self, raw: str) -> Any:
        number = to_int(raw)
        return number if -INT_MAX - 1 <= number <= INT_MAX else NO_MATCH

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "integer", nullable=self.nullable),)


def check_int_range(value: Any, minimum: int, maximum: int) -> int:
    """Validate ``int(value)`` against a range; return the integer."""
    try:
        number = to_int(value)
    except Unconvertible as exc:
        raise Invalid(exc.message) from None
    if number < minimum:
        if minimum == 0:
            raise Invalid(f"'{value}' should be non-negative")
        raise Invalid(f"'{value}' is too small - must be at least '{minimum}'")
    if number > maximum:
        raise Invalid(f"'{value}' is too large - must be no larger than '{maximum}'")
    return number


def canonical_uuid(value: Any) -> str | None:
    """The canonical form of a UUID-like string, or None."""
    if not isinstance(value, str) or _has_nul(value):
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    # uuid.UUID accepts braces and urn: forms; Neutron accepts them too
    # (oslo's is_uuid_like), but only when the hex digits are all there.
    return str(parsed)


@dataclass(frozen=True)
class Uuid(Kind):
    """A UUID string, canonicalised; ``ref`` names a referenced resource."""

    nullable: bool = False
    ref: str | None = None

    def convert(self, value: Any) -> Any:
        canonical = canonical_uuid(value)
        return canonical if canonical is not None else value

    def validate(self, value: Any) -> None:
        if value is None and self.nullable:
            return
        if canonical_uuid(value) is None:
            raise Invalid(f"'{value}' is not a valid UUID")

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", 36, self.nullable),)


def cidr_reason(value: Any) -> str | None:
    """Why ``value`` is not a CIDR in Neutron's ``validate_subnet`` sense."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return f"'{value}' is not a valid IP subnet"
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"'{value}' is not a valid IP subnet"
    if "/" not in value or (net.version == 4 and _ipv4_with_prefix(value) != value):
        return f"'{value}' isn't a recognized IP subnet cidr, '{net}' is recommended"
    return None


def _ipv4_with_prefix(value: str) -> str:
    address, _, prefix = value.partition("/")
    return f"{ipaddress.IPv4Address(address)}/{int(prefix)}"


@dataclass(frozen=True)
class Cidr(Kind):
    """A CIDR string as ``validate_subnet`` accepts it."""

    def validate(self, value: Any) -> None:
        reason = cidr_reason(value)
        if reason:
            raise Invalid(reason)

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", 64),)


def ip_reason(value: Any) -> str | None:
    """Why ``value`` is not a strict IP address literal."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return f"'{value}' is not a valid IP address"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"'{value}' is not a valid IP address"
    return None


@dataclass(frozen=True)
class IpAddress(Kind):
    """An IP address literal, stored in canonical form."""

    nullable: bool = False

    def convert(self, value: Any) -> Any:
        if isinstance(value, str) and ip_reason(value) is None:
            return str(ipaddress.ip_address(value))
        return value

    def validate(self, value: Any) -> None:
        if value is None and self.nullable:
            return
        reason = ip_reason(value)
        if reason:
            raise Invalid(reason)

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", 64, self.nullable),)
