"""Query strings: filters, sorting, paging and fields, per the spec."""

from __future__ import annotations

from typing import Any

import pytest

from vpnaas import errors
from vpnaas.api.query import parse_fields, parse_list, parse_params
from vpnaas.spec import catalog

IKE = catalog()["ikepolicy"]
GROUPS = catalog()["endpoint_group"]
CONN = catalog()["ipsec_site_connection"]


@pytest.mark.parametrize(
    ("qs", "filters"),
    [
        pytest.param("name=a&name=b", {"name": ["a", "b"]}, id="repeat-is-or"),
        pytest.param("name=", {"name": [""]}, id="empty-value-filters-empty-string"),
        pytest.param("tenant_id=p", {"project_id": ["p"]}, id="tenant-is-project"),
        pytest.param(
            "pfs=group5&ike_version=v1", {"pfs": ["group5"], "ike_version": ["v1"]}, id="keys-and"
        ),
    ],
)
def test_filters_are_parsed(qs: str, filters: dict[str, list[Any]]) -> None:
    assert parse_list(IKE, parse_params(qs)).filters == filters


def test_converters_run_on_filter_values() -> None:
    q = parse_list(CONN, parse_params("admin_state_up=False&mtu=1400"))
    assert q.filters == {"admin_state_up": [False], "mtu": [1400]}


@pytest.mark.parametrize(
    ("qs", "error", "message"),
    [
        pytest.param(
            "bogus=1&lifetime=2",
            errors.HTTPBadRequest,
            "['bogus', 'lifetime'] is invalid attribute for filtering",
            id="unknown-filter",
        ),
        pytest.param(
            "admin_state_up=maybe",
            errors.InvalidInput,
            "'maybe' cannot be converted to boolean",
            id="bool-filter",
        ),
        pytest.param("mtu=big", errors.InvalidInput, "'big' is not an integer", id="int-filter"),
        pytest.param(
            "limit=-1",
            errors.BadRequest,
            "Bad limit request: Limit must be an integer 0 or greater and not '-1'.",
            id="negative-limit",
        ),
        pytest.param("limit=x", errors.BadRequest, "not 'x'", id="text-limit"),
        pytest.param(
            "sort_key=name",
            errors.HTTPBadRequest,
            "The number of sort_keys and sort_dirs must be same",
            id="lone-sort-key",
        ),
        pytest.param(
            "sort_key=pfs&sort_dir=asc",
            errors.HTTPBadRequest,
            "['pfs'] is invalid attribute for sort_keys",
            id="unsortable",
        ),
        pytest.param(
            "sort_key=name&sort_dir=up",
            errors.HTTPBadRequest,
            "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'",
            id="bad-direction",
        ),
        pytest.param("name=a%00b", errors.HTTPBadRequest, "NUL", id="nul"),
    ],
)
def test_bad_queries_are_400(qs: str, error: type[errors.ApiError], message: str) -> None:
    with pytest.raises(error) as exc:
        parse_list(CONN if "admin_state" in qs or "mtu" in qs else IKE, parse_params(qs))
    assert message in exc.value.message


def test_sorts_pair_keys_and_directions() -> None:
    q = parse_list(IKE, parse_params("sort_key=name&sort_dir=desc&sort_key=id&sort_dir=asc"))
    assert q.sorts == [("name", False), ("id", True)]


def test_endpoint_groups_have_no_sort_key_but_accept_the_type_alias() -> None:
    with pytest.raises(errors.HTTPBadRequest):
        parse_list(GROUPS, parse_params("sort_key=name&sort_dir=asc"))
    assert parse_list(GROUPS, parse_params("endpoint_type=cidr")).filters == {
        "endpoint_type": ["cidr"]
    }


@pytest.mark.parametrize(
    ("qs", "limit", "marker", "reverse"),
    [
        pytest.param("", 0, None, False, id="no-paging"),
        pytest.param("limit=0&marker=m", 0, None, False, id="limit-0-ignores-marker"),
        pytest.param("limit=5&marker=m&page_reverse=TRUE", 5, "m", True, id="reverse"),
        pytest.param("limit=5&page_reverse=yes", 5, None, False, id="only-true-reverses"),
    ],
)
def test_paging_parameters(qs: str, limit: int, marker: str | None, reverse: bool) -> None:
    q = parse_list(IKE, parse_params(qs))
    assert (q.limit, q.marker, q.reverse) == (limit, marker, reverse)


def test_max_limit_caps_pages() -> None:
    assert parse_list(IKE, parse_params(""), max_limit=10).limit == 10
    assert parse_list(IKE, parse_params("limit=50"), max_limit=10).limit == 10


def test_fields_keep_only_known_visible_names_once() -> None:
    assert parse_fields(IKE, parse_params("fields=id&fields=bogus&fields=id&fields=")) == ("id",)
    assert parse_fields(IKE, parse_params("")) is None
