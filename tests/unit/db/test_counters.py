"""Shared counter reads (``vpnaas.db.counters``) on real databases and real
threads: a request takes only a read sent after it arrived, so a write
committed before it arrived is always seen, even while an older read is
still in flight; the requests that arrive during one read share the next.

A slow read is a real statement whose answer comes back late: on
PostgreSQL it sleeps in the server after its snapshot is taken
(``pg_sleep``; a private server of ``scripts/db-server``, or a fresh
database on ``VPNAAS_TEST_DATABASE_URL``'s), on SQLite the thread sleeps
after the rows are read.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support import databases
from vpnaas import errors
from vpnaas.db.counters import Coalesced, Counters
from vpnaas.db.engine import Database
from vpnaas.db.repo import Repo
from vpnaas.db.revisions import bump
from vpnaas.db.tables import schema

SLOW = 1.0  # seconds a slow read's answer is late
WAIT = 10.0  # seconds before a test gives up on a thread
_ALL = "SELECT resource, number FROM revisions"


@pytest.fixture(scope="module")
def postgresql_server() -> Iterator[str]:
    shared = os.environ.get("VPNAAS_TEST_DATABASE_URL", "")
    if shared.startswith("postgresql"):
        yield shared
        return
    with databases.running_server("postgresql") as server:
        yield server.url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        with databases.migrated(f"sqlite:///{tmp_path}/vpnaas.sqlite") as db:
            yield db
        return
    server_url = request.getfixturevalue("postgresql_server")
    with databases.fresh_database(server_url) as url, databases.migrated(url) as db:
        yield db


def write(db: Database, member: str = "ikepolicy") -> None:
    """Commit one write of ``member`` (its counter goes up by one)."""
    with db.write() as conn:
        bump(conn, schema(), [member])


class Reads:
    """Reads of every counter through real statements, numbered as they are
    sent; those numbered in ``slow`` (default: the first) answer late, after
    their snapshot is taken; those in ``fail`` fail."""

    def __init__(
        self, db: Database, slow: set[int] | None = None, fail: set[int] | None = None
    ) -> None:
        self.db = db
        self.slow = {1} if slow is None else slow
        self.fail = fail or set()
        self.sent = 0
        self.inside = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> Mapping[str, int]:
        with self._lock:
            self.sent += 1
            number = self.sent
        if number in self.fail:
            raise errors.ServiceUnavailable(reason=f"read {number} failed")
        rows = self._slow() if number in self.slow else self.db.peek(_ALL, ())
        return {str(member): int(count) for member, count in rows}

    def _slow(self) -> list[tuple[Any, ...]]:
        if not self.db.is_sqlite:
            return self.db.peek(f"{_ALL} CROSS JOIN pg_sleep({SLOW})", ())
        # the rows are read first; their answer then comes back late
        rows = self.db.peek(_ALL, ())
        self.inside.set()
        time.sleep(SLOW)
        return rows

    def wait_inside(self) -> None:
        """Until the slow read has its snapshot (PostgreSQL: it is sleeping)."""
        if self.db.is_sqlite:
            assert self.inside.wait(WAIT)
            return
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            active = self.db.peek(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state = 'active' AND query LIKE '%pg_sleep%'"
                " AND backend_xmin IS NOT NULL"  # its snapshot is taken
                " AND pid <> pg_backend_pid() AND datname = current_database()",
                (),
            )
            if active[0][0]:
                return
            time.sleep(0.01)
        raise AssertionError("the slow read never started")


def _start(pool: ThreadPoolExecutor, call: Callable[[], Mapping[str, int]]) -> Future[int]:
    return pool.submit(lambda: call().get("ikepolicy", 0))


def test_a_request_never_takes_a_read_sent_before_it_arrived(database: Database) -> None:
    write(database)
    reads = Reads(database)
    shared = Coalesced(reads)
    with ThreadPoolExecutor(2) as pool:
        first = _start(pool, shared)
        reads.wait_inside()  # the first read's snapshot holds one write
        write(database)  # committed before the second request arrives
        second = _start(pool, shared)
        assert first.result(WAIT) == 1  # the race is real: the in-flight read missed it
        assert second.result(WAIT) == 2
    assert reads.sent == 2


def test_requests_arriving_during_a_read_share_the_next_one(database: Database) -> None:
    reads = Reads(database)
    shared = Coalesced(reads)
    with ThreadPoolExecutor(6) as pool:
        first = _start(pool, shared)
        reads.wait_inside()
        write(database)
        later = [_start(pool, shared) for _ in range(5)]
        assert first.result(WAIT) == 0
        assert [f.result(WAIT) for f in later] == [1] * 5
    assert reads.sent == 2  # the slow one, and one for the five that waited


def test_a_request_after_a_read_ended_sends_its_own(database: Database) -> None:
    reads = Reads(database, slow=set())
    shared = Coalesced(reads)
    for written in range(3):
        assert shared().get("ikepolicy", 0) == written
        write(database)
    assert reads.sent == 3


def test_a_failed_read_fails_each_request_it_served_and_the_next_read_recovers(
    database: Database,
) -> None:
    reads = Reads(database, slow={1}, fail={2})
    shared = Coalesced(reads)
    with ThreadPoolExecutor(4) as pool:
        first = _start(pool, shared)
        reads.wait_inside()
        waiting = [_start(pool, shared) for _ in range(3)]
        assert first.result(WAIT) == 0
        raised = []
        for future in waiting:
            with pytest.raises(errors.ServiceUnavailable, match="read 2 failed") as caught:
                future.result(WAIT)
            raised.append(caught.value)
    assert len({id(exc) for exc in raised}) == 3  # each thread raised one of its own
    assert reads.sent == 2
    write(database)
    assert shared()["ikepolicy"] == 1
    assert reads.sent == 3


def test_counters_read_as_the_repository_does_and_are_shared_on_a_server(
    database: Database,
) -> None:
    write(database, "ikepolicy")
    write(database, "vpnservice")
    counters = Counters(database, schema())
    wanted = ("vpnservice", "ikepolicy", "router", "ikepolicy")
    with database.read() as conn:
        assert counters.of(wanted) == Repo(conn, schema()).revisions(wanted)
    assert counters.of(wanted) == (("ikepolicy", 1), ("router", 0), ("vpnservice", 1))
    assert isinstance(counters.read, Coalesced) is not database.is_sqlite


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite keeps none
def test_a_kept_connection_the_server_dropped_is_replaced(database: Database) -> None:
    counters = Counters(database, schema())
    assert counters.of(["ikepolicy"]) == (("ikepolicy", 0),)
    slot = counters._slot
    assert slot is not None
    kept = database.peek("SELECT pg_backend_pid()", (), slot)[0][0]
    assert database.peek("SELECT pg_terminate_backend(%s)", (kept,)) == [(True,)]
    write(database)
    assert counters.of(["ikepolicy"]) == (("ikepolicy", 1),)
    assert database.peek("SELECT pg_backend_pid()", (), slot)[0][0] != kept
    database.dispose()
    assert slot.raw is None
