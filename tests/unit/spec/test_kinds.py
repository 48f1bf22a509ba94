"""Field kinds: Neutron's converters and validators, case by case."""

from __future__ import annotations

from typing import Any

import pytest

from vpnaas.spec.kinds import (
    Bool,
    Cidr,
    Enum,
    Int,
    Invalid,
    Name,
    Str,
    Unconvertible,
    Uuid,
    cidr_reason,
    to_bool,
)
from vpnaas.spec.structured import Composite, ListOf, Sub, to_list

LIFETIME = Composite(
    keys=(Sub("units", Enum(("seconds",)), "seconds"), Sub("value", Int(minimum=60), 3600))
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, True, id="json-true"),
        pytest.param(0, False, id="int-0"),
        pytest.param("Yes", True, id="yes-any-case"),
        pytest.param("off", False, id="off"),
        pytest.param(" t ", True, id="t-padded"),
        pytest.param("0", False, id="string-0"),
    ],
)
def test_to_bool_accepts_neutron_spellings(value: Any, expected: bool) -> None:
    assert to_bool(value) is expected


@pytest.mark.parametrize("value", [2, "maybe", None, [], {}, 1.5, ""])
def test_to_bool_refuses_other_values(value: Any) -> None:
    with pytest.raises(Unconvertible, match="cannot be converted to boolean"):
        to_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, [], id="none-is-empty"),
        pytest.param("x", ["x"], id="scalar-wrapped"),
        pytest.param(["a", "b"], ["a", "b"], id="list-kept"),
        pytest.param(("a",), ["a"], id="tuple-listed"),
    ],
)
def test_to_list(value: Any, expected: list[Any]) -> None:
    assert to_list(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("10.0.0.0/24", None, id="v4"),
        pytest.param("10.0.0.1/24", None, id="host-bits-kept"),
        pytest.param("2001:db8::/64", None, id="v6"),
        pytest.param("1.0.0.0/33", "is not a valid IP subnet", id="prefix-too-long"),
        pytest.param("010.0.0.0/24", "is not a valid IP subnet", id="leading-zero"),
        pytest.param(
            "2000::1",
            "isn't a recognized IP subnet cidr, '2000::1/128' is recommended",
            id="bare-v6-address",
        ),
        pytest.param("10.0.0.0", "isn't a recognized IP subnet cidr", id="bare-v4-address"),
        pytest.param(" 10.0.0.0/24", "is not a valid IP subnet", id="whitespace"),
        pytest.param(5, "is not a valid IP subnet", id="not-a-string"),
    ],
)
def test_cidr_reason(value: Any, reason: str | None) -> None:
    found = cidr_reason(value)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        pytest.param(Str(3), "abcd", "'abcd' exceeds maximum length of 3", id="str-too-long"),
        pytest.param(Str(3), 5, "'5' is not a valid string", id="str-not-string"),
        pytest.param(Str(9), "a\x00b", "is not a valid string", id="str-nul"),
        pytest.param(Name(255), " lead", "' lead' is not a valid string", id="name-leading-space"),
        pytest.param(Name(255), "tab\t", "is not a valid string", id="name-control"),
        pytest.param(Enum(("a",)), "b", "b is not in valid_values", id="enum"),
        pytest.param(Int(), -1, "'-1' should be non-negative", id="int-negative"),
        pytest.param(
            Int(minimum=60), "59", "'59' is too small - must be at least '60'", id="int-too-small"
        ),
        pytest.param(
            Int(), 2**31, "is too large - must be no larger than '2147483647'", id="int-too-large"
        ),
        pytest.param(Uuid(), "nope", "'nope' is not a valid UUID", id="uuid"),
        pytest.param(Cidr(), "x", "'x' is not a valid IP subnet", id="cidr"),
        pytest.param(LIFETIME, 5, "'5' is not a dictionary", id="composite-not-dict"),
        pytest.param(LIFETIME, {"unit": "s"}, "Unexpected keys supplied: unit", id="composite-key"),
        pytest.param(LIFETIME, {"value": "x"}, "'x' is not an integer", id="composite-value"),
        pytest.param(
            ListOf(Cidr(), unique=True),
            ["10.0.0.0/8", "10.0.0.0/8"],
            "Duplicate items in the list: '10.0.0.0/8'",
            id="list-duplicates",
        ),
        pytest.param(ListOf(Cidr()), "10.0.0.0/8", "is not a list", id="list-not-list"),
    ],
)
def test_validators_word_their_reasons_like_neutron(kind: Any, value: Any, message: str) -> None:
    with pytest.raises(Invalid) as exc:
        kind.validate(value)
    assert message in exc.value.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1500", 1500, id="numeric-string"),
        pytest.param(True, 1, id="bool"),
        pytest.param(1500.7, 1500, id="float-truncated"),
    ],
)
def test_int_converter_applies_int(value: Any, expected: int) -> None:
    assert Int().convert(value) == expected


@pytest.mark.parametrize("value", ["1.5", "x", None, [], float("nan"), float("inf")])
def test_int_converter_refuses_non_integers(value: Any) -> None:
    with pytest.raises(Unconvertible, match="is not an integer"):
        Int().convert(value)


def test_uuid_converter_canonicalises() -> None:
    assert Uuid().convert("9E1FD3A61F2B4C1E9D570C5D9B1D8D11") == (
        "9e1fd3a6-1f2b-4c1e-9d57-0c5d9b1d8d11"
    )


def test_composite_merges_key_by_key() -> None:
    assert LIFETIME.normalise({"value": "7200"}, {"units": "seconds", "value": 3600}) == {
        "units": "seconds",
        "value": 7200,
    }
    assert LIFETIME.normalise({}, LIFETIME.defaults()) == {"units": "seconds", "value": 3600}


def test_bool_filter_values_use_the_converter() -> None:
    assert Bool().parse_filter("False") is False
    with pytest.raises(Unconvertible):
        Bool().parse_filter("perhaps")
