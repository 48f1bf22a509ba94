"""Reads by id and by condition (``vpnaas.db.reads``) on a real database."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.db.objects import OTHER, PROJECT, insert, res
from vpnaas.db.query import Hooks, Loader, Scope
from vpnaas.db.reads import PLANS_KEPT, plan
from vpnaas.db.repo import Repo
from vpnaas.db.tables import schema

IKE = res("ikepolicy")
GROUP = res("endpoint_group")


def test_get_returns_what_insert_stored(repo: Repo) -> None:
    obj = insert(repo, "ikepolicy", name="a", lifetime={"units": "seconds", "value": 7200})
    assert repo.get(IKE, obj["id"]) == obj
    assert repo.get(IKE, "no-such-id") is None


def test_a_list_attribute_comes_back_in_stored_order(repo: Repo) -> None:
    cidrs = ["10.9.0.0/24", "10.1.0.0/24", "10.5.0.0/24"]
    obj = insert(repo, "endpoint_group", type="cidr", endpoints=cidrs)
    got = repo.get(GROUP, obj["id"])
    assert got is not None
    assert got["endpoints"] == cidrs
    assert [g["endpoints"] for g in repo.find(GROUP)] == [cidrs]


def test_fields_narrow_a_read_to_what_was_asked_and_what_policy_needs(repo: Repo) -> None:
    obj = insert(repo, "ikepolicy", name="a")
    got = repo.get(IKE, obj["id"], fields=["name"])
    assert got == {"id": obj["id"], "project_id": PROJECT, "name": "a"}


def test_a_scope_hides_other_projects_rows(repo: Repo) -> None:
    mine = insert(repo, "ikepolicy", name="mine")
    theirs = insert(repo, "ikepolicy", OTHER, name="theirs")
    scope = Scope(project=PROJECT)
    assert repo.get(IKE, mine["id"], scope) is not None
    assert repo.get(IKE, theirs["id"], scope) is None
    table = schema().table("ikepolicy")
    by_clause = Scope(clause=table.c.name == "theirs")
    assert repo.get(IKE, theirs["id"], by_clause) is not None
    assert repo.get(IKE, mine["id"], by_clause) is None


def test_single_values_ids_and_existence(repo: Repo) -> None:
    a = insert(repo, "ikepolicy", name="same")
    b = insert(repo, "ikepolicy", name="same")
    insert(repo, "ikepolicy", name="other")
    table = schema().table("ikepolicy")
    assert repo.value(IKE, a["id"], "name") == "same"
    assert repo.value(IKE, "no-such-id", "name") is None
    assert repo.ids_by(IKE, "name", "same") == sorted([a["id"], b["id"]])
    assert repo.ids(IKE, table.c.name == "same") == sorted([a["id"], b["id"]])
    assert repo.exists(IKE, table.c.name == "other")
    assert not repo.exists(IKE, table.c.name == "none")
    assert [o["id"] for o in repo.find(IKE, table.c.name == "same")] == sorted([a["id"], b["id"]])


def test_a_secret_cannot_be_read_as_a_single_value(repo: Repo) -> None:
    with pytest.raises(AssertionError, match="sealed"):
        repo.value(res("ipsec_site_connection"), "x", "psk")


def test_loaders_fill_computed_attributes_once_per_batch(database: Any) -> None:
    calls: list[int] = []

    def load(repo: Repo, objs: list[dict[str, Any]]) -> None:
        calls.append(len(objs))
        for obj in objs:
            obj["subnets"] = [f"of-{obj['name']}"]

    hooks = Hooks(loaders={("network", "subnets"): Loader(load, reads=("subnet",))})
    with database.write() as conn:
        repo = Repo(conn, schema(), hooks)
        a = insert(repo, "network", name="a")
        insert(repo, "network", name="b")
        network = res("network")
        got = repo.get(network, a["id"])
        assert got is not None
        assert got["subnets"] == ["of-a"]
        assert [n["subnets"] for n in repo.find(network)] in (
            [["of-a"], ["of-b"]],
            [["of-b"], ["of-a"]],
        )
        assert repo.get(network, a["id"], fields=["name"]) is not None
    assert calls == [1, 2]  # a read that does not ask for subnets runs no loader


def test_read_plans_are_kept_per_attribute_set_and_bounded() -> None:
    first = plan(schema(), "ikepolicy", ("id", "name"))
    assert plan(schema(), "ikepolicy", ("id", "name")) is first
    assert [name for name, *_ in first[1]] == ["id", "name"]
    assert plan.cache_info().maxsize == PLANS_KEPT


def test_objects_keep_the_resource_order_of_their_attributes(repo: Repo) -> None:
    """Composite attributes (``lifetime``) come back as dicts in the place
    of the resource's order, among the plain columns around them."""
    obj = insert(repo, "ikepolicy", name="a", lifetime={"units": "seconds", "value": 7200})
    stored = [fld.name for fld in IKE.fields if fld.stored]
    for got in (repo.get(IKE, obj["id"]), *repo.find(IKE)):
        assert got is not None
        assert list(got) == stored
        assert got["lifetime"] == {"units": "seconds", "value": 7200}
