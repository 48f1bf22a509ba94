"""Writes and write counters (``vpnaas.db.writes``) on a real database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.unit.db.objects import insert, res
from vpnaas.db.engine import Database
from vpnaas.db.repo import Repo
from vpnaas.db.tables import schema

IKE = res("ikepolicy")
GROUP = res("endpoint_group")


def test_update_changes_only_the_attributes_given(repo: Repo) -> None:
    obj = insert(repo, "ikepolicy", name="a", description="kept")
    repo.update(IKE, obj["id"], {"name": "b", "lifetime": {"units": "seconds", "value": 60}})
    got = repo.get(IKE, obj["id"])
    assert got == {**obj, "name": "b", "lifetime": {"units": "seconds", "value": 60}}


def test_update_replaces_a_list_attribute_whole(repo: Repo) -> None:
    obj = insert(repo, "endpoint_group", type="cidr", endpoints=["10.0.0.0/24", "10.1.0.0/24"])
    repo.update(GROUP, obj["id"], {"endpoints": ["10.2.0.0/24"]})
    assert (repo.get(GROUP, obj["id"]) or {})["endpoints"] == ["10.2.0.0/24"]
    repo.update(GROUP, obj["id"], {"endpoints": []})
    assert (repo.get(GROUP, obj["id"]) or {})["endpoints"] == []


def test_delete_removes_the_row_and_its_list_items(repo: Repo) -> None:
    obj = insert(repo, "endpoint_group", type="cidr", endpoints=["10.0.0.0/24"])
    assert repo.delete(GROUP, obj["id"])
    assert repo.get(GROUP, obj["id"]) is None
    items = schema().child("endpoint_group", "endpoints").table
    assert repo.conn.scalar(sa.select(sa.func.count()).select_from(items)) == 0
    assert not repo.delete(GROUP, obj["id"])


def test_each_transaction_counts_once_per_resource_it_wrote(database: Database) -> None:
    def counters(members: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
        with database.read() as conn:
            return Repo(conn, schema()).revisions(members)

    wanted = ("endpoint_group", "ikepolicy", "network")
    assert counters(wanted) == (("endpoint_group", 0), ("ikepolicy", 0), ("network", 0))
    with database.write() as conn:
        repo = Repo(conn, schema())
        a = insert(repo, "ikepolicy", name="a")
        insert(repo, "ikepolicy", name="b")
        insert(repo, "endpoint_group", type="cidr", endpoints=["10.0.0.0/24"])
        assert repo.touched == {"ikepolicy", "endpoint_group"}
        repo.bump_revisions()
        assert repo.touched == set()
    assert counters(wanted) == (("endpoint_group", 1), ("ikepolicy", 1), ("network", 0))
    with database.write() as conn:
        repo = Repo(conn, schema())
        repo.update(IKE, a["id"], {"name": "c"})
        repo.delete(IKE, a["id"])
        repo.bump_revisions()
    assert counters(wanted) == (("endpoint_group", 1), ("ikepolicy", 2), ("network", 0))


def test_a_rolled_back_write_counts_nothing(database: Database) -> None:
    def write_then_fail() -> None:
        with database.write() as conn:
            repo = Repo(conn, schema())
            insert(repo, "ikepolicy", name="a")
            repo.bump_revisions()
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        write_then_fail()
    with database.read() as conn:
        repo = Repo(conn, schema())
        assert repo.revisions(["ikepolicy"]) == (("ikepolicy", 0),)
        assert repo.find(IKE) == []
