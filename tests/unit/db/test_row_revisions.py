"""Row write counters (``row_revision``, ``vpnaas.db.revisions``) on real
databases: every way a row is written leaves it numbered with its
resource's counter at the commit, rows not written keep their number, and
a writer never waits, holding a counter, for another writer's rows.

SQLite always; the server of ``VPNAAS_TEST_DATABASE_URL`` too when the
database suite sets it (PostgreSQL, MariaDB: a fresh database each test).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import databases
from tests.unit.db.objects import insert, res
from vpnaas.db import migrate
from vpnaas.db.engine import Database
from vpnaas.db.repo import Repo
from vpnaas.db.revisions import bump, deletes_of
from vpnaas.db.statuses import write_columns
from vpnaas.db.tables import schema
from vpnaas.drivers import StatusWriter
from vpnaas.spec import catalog

IKE = res("ikepolicy")
GROUP = res("endpoint_group")
SERVER_URL_ENV = "VPNAAS_TEST_DATABASE_URL"
WAIT = 10.0  # seconds before a test gives up on a thread


def _kinds() -> list[str]:
    return ["sqlite", "server"] if os.environ.get(SERVER_URL_ENV) else ["sqlite"]


@pytest.fixture(params=_kinds())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        with databases.migrated(f"sqlite:///{tmp_path}/vpnaas.sqlite") as db:
            yield db
    else:
        with (
            databases.fresh_database(os.environ[SERVER_URL_ENV]) as url,
            databases.migrated(url) as db,
        ):
            yield db


@contextmanager
def writing(db: Database) -> Iterator[Repo]:
    """A repository over a write transaction, its writes counted at the end."""
    with db.write() as conn:
        repo = Repo(conn, schema())
        yield repo
        repo.bump_revisions()


def numbers(db: Database, member: str) -> dict[str, int | None]:
    """Each row's ``row_revision``, by id."""
    table = schema().table(member)
    with db.read() as conn:
        return {row.id: row.row_revision for row in conn.execute(sa.select(table))}


def counter(db: Database, member: str) -> int:
    with db.read() as conn:
        return Repo(conn, schema()).revisions([member])[0][1]


def two_ike_policies(db: Database) -> tuple[str, str]:
    with writing(db) as repo:
        a, b = insert(repo, "ikepolicy", name="a"), insert(repo, "ikepolicy", name="b")
    return a["id"], b["id"]


def test_a_created_row_is_numbered_with_the_counter(database: Database) -> None:
    a, b = two_ike_policies(database)
    assert counter(database, "ikepolicy") == 1
    assert numbers(database, "ikepolicy") == {a: 1, b: 1}


def test_an_update_numbers_only_the_row_it_wrote(database: Database) -> None:
    a, b = two_ike_policies(database)
    with writing(database) as repo:
        repo.update(IKE, a, {"name": "c"})
    assert numbers(database, "ikepolicy") == {a: 2, b: 1}


def test_a_change_of_a_list_attribute_alone_numbers_its_row(database: Database) -> None:
    with writing(database) as repo:
        group = insert(repo, "endpoint_group", type="cidr", endpoints=["10.0.0.0/24"])
        other = insert(repo, "endpoint_group", type="cidr", endpoints=["10.1.0.0/24"])
    with writing(database) as repo:
        repo.update(GROUP, group["id"], {"endpoints": ["10.2.0.0/24"]})
    assert numbers(database, "endpoint_group") == {group["id"]: 2, other["id"]: 1}


def test_status_writes_number_their_rows(database: Database) -> None:
    """The agents' batch status writes, and a driver's status write."""
    a, b = two_ike_policies(database)
    table = schema().table("ikepolicy")
    with writing(database) as repo:
        write_columns(repo.conn, table, {b: {"description": "seen"}})
        repo.touched.add("ikepolicy")
    assert numbers(database, "ikepolicy") == {a: 1, b: 2}
    with writing(database) as repo:
        net = insert(repo, "network", name="n")
    status = StatusWriter(database, schema(), catalog())
    status.set("network", net["id"], "DOWN")
    assert numbers(database, "network") == {net["id"]: 2}
    status.set("network", net["id"], "ACTIVE", only_pending=True)  # not pending: no write
    assert numbers(database, "network") == {net["id"]: 2}
    assert counter(database, "network") == 2


def test_a_delete_moves_the_deletes_counter(database: Database) -> None:
    a, b = two_ike_policies(database)
    with writing(database) as repo:
        repo.update(IKE, a, {"name": "c"})
    assert counter(database, deletes_of("ikepolicy")) == 0
    with writing(database) as repo:
        assert repo.delete(IKE, b)
    assert counter(database, deletes_of("ikepolicy")) == 1
    assert counter(database, "ikepolicy") == 3
    assert numbers(database, "ikepolicy") == {a: 2}


def test_a_rolled_back_write_numbers_nothing(database: Database) -> None:
    a, b = two_ike_policies(database)

    def write_then_fail() -> None:
        with writing(database) as repo:
            repo.update(IKE, a, {"name": "c"})
            repo.bump_revisions()  # numbered, then rolled back
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        write_then_fail()
    assert numbers(database, "ikepolicy") == {a: 1, b: 1}
    assert counter(database, "ikepolicy") == 1


def test_a_row_written_without_a_bump_is_numbered_by_the_next_one(database: Database) -> None:
    """``vpnaas db rotate-key`` rewrites rows and counts nothing: they stay
    unnumbered (lists read them again each time) until the next bump."""
    a, b = two_ike_policies(database)
    table = schema().table("ikepolicy")
    with database.write() as conn:
        conn.execute(sa.update(table).where(table.c.id == a).values(description="x"))
    assert numbers(database, "ikepolicy") == {a: None, b: 1}
    with database.write() as conn:
        bump(conn, schema(), ["ikepolicy"])
    assert numbers(database, "ikepolicy") == {a: 2, b: 1}


def test_a_bump_passes_over_the_rows_another_writer_holds(database: Database) -> None:
    """Writer A has written a row and not yet bumped; writer B bumps and
    commits meanwhile, without waiting for A and without numbering A's row;
    A's row then gets a number above B's. (SQLite runs one writer at a time.)"""
    if database.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    a, b = two_ike_policies(database)
    written, go_on = threading.Event(), threading.Event()

    def writer_a() -> None:
        with writing(database) as repo:
            repo.update(IKE, a, {"name": "from-a"})
            written.set()
            assert go_on.wait(WAIT)

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(writer_a)
        try:
            assert written.wait(WAIT)
            with writing(database) as repo:
                repo.update(IKE, b, {"name": "from-b"})
            assert numbers(database, "ikepolicy") == {a: 1, b: 2}
        finally:
            go_on.set()
        done.result(WAIT)
    assert numbers(database, "ikepolicy") == {a: 3, b: 2}


def test_the_migration_adds_and_removes_the_row_counters(database: Database) -> None:
    """0006 numbers the rows stored before it 0; its downgrade removes the
    columns and their indexes, and the upgrade puts them back."""
    a, _ = two_ike_policies(database)
    migrate.downgrade(database.engine, "0005")
    inspector = sa.inspect(database.engine)
    for res_ in catalog().resources:
        names = {col["name"] for col in inspector.get_columns(res_.collection)}
        assert "row_revision" not in names, res_.collection
    migrate.upgrade(database.engine)
    assert migrate.check(database.engine) == []
    assert numbers(database, "ikepolicy")[a] == 0
