"""Lists (``vpnaas.db.paging``): filters, sorts and keyset pages on a real
database; every page of a walk is what slicing the whole sorted list gives."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.db.objects import OTHER, PROJECT, insert, res
from vpnaas.db.query import ListQuery, Scope
from vpnaas.db.repo import Repo
from vpnaas.spec.kinds import NO_MATCH

IKE = res("ikepolicy")
NAMES = ["delta", "alpha", "charlie", "alpha", "bravo", "Echo", "échelle"]


@pytest.fixture
def stored(repo: Repo) -> list[dict[str, Any]]:
    return [insert(repo, "ikepolicy", name=name) for name in NAMES]


def _sorted(objs: list[dict[str, Any]], desc: bool = False) -> list[str]:
    """Ids in name order (code points, as Python compares), ties by id."""
    ordered = sorted(objs, key=lambda o: (o["name"], o["id"]))
    if desc:  # a descending name, ties still by ascending id
        ordered = sorted(ordered, key=lambda o: o["name"], reverse=True)
    return [o["id"] for o in ordered]


def _walk(repo: Repo, query: ListQuery) -> list[list[str]]:
    """Follow the markers to an empty page (or one page more than the rows)."""
    pages: list[list[str]] = []
    for _ in range(len(NAMES) + 1):
        page = repo.page(IKE, query)
        if not page:
            break
        pages.append([o["id"] for o in page])
        query = ListQuery(sorts=query.sorts, limit=query.limit, marker=page[-1]["id"])
    return pages


@pytest.mark.parametrize("desc", [False, True])
def test_a_sorted_list_orders_by_code_point_with_id_last(
    repo: Repo, stored: list[dict[str, Any]], desc: bool
) -> None:
    got = repo.page(IKE, ListQuery(sorts=[("name", not desc)]))
    assert [o["id"] for o in got] == _sorted(stored, desc)


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_keyset_pages_cover_every_row_once_in_order(
    repo: Repo, stored: list[dict[str, Any]], limit: int
) -> None:
    pages = _walk(repo, ListQuery(sorts=[("name", True)], limit=limit))
    whole = _sorted(stored)
    assert pages == [whole[i : i + limit] for i in range(0, len(whole), limit)]


def test_a_reverse_page_is_the_rows_before_the_marker(
    repo: Repo, stored: list[dict[str, Any]]
) -> None:
    whole = _sorted(stored)
    query = ListQuery(sorts=[("name", True)], limit=2, marker=whole[4], reverse=True)
    assert [o["id"] for o in repo.page(IKE, query)] == whole[2:4]


def test_a_marker_the_query_cannot_see_gives_an_empty_page(
    repo: Repo, stored: list[dict[str, Any]]
) -> None:
    theirs = insert(repo, "ikepolicy", OTHER, name="theirs")
    scope = Scope(project=PROJECT)
    assert repo.page(IKE, ListQuery(limit=2, marker=theirs["id"]), scope) == []
    assert repo.page(IKE, ListQuery(limit=2, marker="no-such-id")) == []
    assert len(repo.page(IKE, ListQuery(), scope)) == len(stored)


def test_filters_match_any_of_their_values(repo: Repo, stored: list[dict[str, Any]]) -> None:
    query = ListQuery(filters={"name": ["alpha", "bravo"]}, sorts=[("name", True)])
    assert [o["name"] for o in repo.page(IKE, query)] == ["alpha", "alpha", "bravo"]
    none = ListQuery(filters={"name": [NO_MATCH]})
    assert repo.page(IKE, none) == []


def test_a_nullable_sort_key_puts_nulls_first(repo: Repo) -> None:
    network = insert(repo, "network", name="n")
    gateways = ["10.0.2.1", None, "10.0.0.1", None]
    subnets = [
        insert(
            repo,
            "subnet",
            network_id=network["id"],
            cidr=f"10.0.{n}.0/24",
            ip_version=4,
            gateway_ip=gateway,
        )
        for n, gateway in enumerate(gateways)
    ]
    subnet = res("subnet")
    got = repo.page(subnet, ListQuery(sorts=[("gateway_ip", True)]))
    nulls = sorted(s["id"] for s in subnets if s["gateway_ip"] is None)
    assert [s["id"] for s in got] == [*nulls, subnets[2]["id"], subnets[0]["id"]]
    backwards = repo.page(subnet, ListQuery(sorts=[("gateway_ip", False)]))
    assert [s["gateway_ip"] for s in backwards] == ["10.0.2.1", "10.0.0.1", None, None]


def test_a_page_in_a_layout_is_one_dict_per_row_with_exactly_its_keys(repo: Repo) -> None:
    """A layout names the keys and the attribute each holds; one attribute
    may fill two keys. Rows come from the driver's cursor: a boolean is a
    ``bool`` as SQLAlchemy makes it (SQLite's driver gives ``0``)."""
    made = insert(repo, "network", name="n", admin_state_up=False, shared=True)
    layout = (
        ("id", "id"),
        ("tenant_id", "project_id"),
        ("admin_state_up", "admin_state_up"),
        ("name", "name"),
        ("shared", "shared"),
        ("project_id", "project_id"),
    )
    (got,) = repo.page(res("network"), ListQuery(), layout=layout)
    assert list(got) == [key for key, _ in layout]
    assert got == {
        "id": made["id"],
        "tenant_id": PROJECT,
        "admin_state_up": False,
        "name": "n",
        "shared": True,
        "project_id": PROJECT,
    }
    assert got["admin_state_up"] is False
    assert got["shared"] is True


def test_a_layout_holds_composites_and_list_attributes_where_it_puts_them(repo: Repo) -> None:
    group = insert(repo, "endpoint_group", type="cidr", endpoints=["10.2.0.0/24", "10.1.0.0/24"])
    ike = insert(repo, "ikepolicy", name="i", lifetime={"units": "seconds", "value": 600})
    layout = (("endpoints", "endpoints"), ("id", "id"))
    (got,) = repo.page(res("endpoint_group"), ListQuery(), layout=layout)
    assert list(got.items()) == [("endpoints", group["endpoints"]), ("id", group["id"])]
    layout = (("lifetime", "lifetime"), ("id", "id"))
    (got,) = repo.page(IKE, ListQuery(filters={"id": [ike["id"]]}), layout=layout)
    assert list(got.items()) == [
        ("lifetime", {"units": "seconds", "value": 600}),
        ("id", ike["id"]),
    ]


def test_a_failure_while_fetching_raw_rows_is_a_database_error(repo: Repo) -> None:
    """Rows read past SQLAlchemy's result fail as its own fetch would, so the
    transaction turns the failure into an API answer, not a 500."""
    second_row_overflows = sa.text(
        "SELECT abs(x) FROM (SELECT 1 AS x UNION ALL SELECT -9223372036854775808)"
    )
    with pytest.raises(sa.exc.DBAPIError, match="integer overflow"):
        repo.fetch(second_row_overflows)
