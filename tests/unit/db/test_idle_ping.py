"""Pooled connections on a database server are pinged only after sitting
unused (``vpnaas.db.engine``): a transaction right after another sends no
ping, and one the server dropped while it sat idle is replaced before the
next transaction, which succeeds. Real PostgreSQL and MariaDB servers (the
private ones of ``scripts/db-server``), real backends ended by the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import databases
from vpnaas import errors
from vpnaas.db import engine as engine_module
from vpnaas.db.engine import Database

pytestmark = pytest.mark.slow

IDLE = engine_module.IDLE_PING


@pytest.fixture(scope="module", params=databases.KINDS)
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with databases.running_server(str(request.param)) as server:
        yield server.url


@pytest.fixture
def database(server_url: str) -> Iterator[Database]:
    with databases.fresh_database(server_url) as url, databases.migrated(url) as db:
        yield db


class Pings:
    """Counts the dialect's pings of ``db``'s transaction pool."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        dialect = db.engine.dialect
        ping = dialect.do_ping

        def counted(dbapi_conn: Any) -> bool:
            self.count += 1
            return bool(ping(dbapi_conn))

        monkeypatch.setattr(dialect, "do_ping", counted)


def _backend(db: Database) -> int:
    """The server-side id of the connection a transaction gets."""
    sql = "SELECT pg_backend_pid()" if db.dialect == "postgresql" else "SELECT CONNECTION_ID()"
    with db.write() as conn:
        return int(conn.exec_driver_sql(sql).scalar_one())


def _end(db: Database, backend: int) -> None:
    """Have the server end connection ``backend``, from another connection."""
    if db.dialect == "postgresql":
        assert db.peek("SELECT pg_terminate_backend(%s)", (backend,)) == [(True,)]
    else:
        db.peek(f"KILL CONNECTION {int(backend)}", ())


def test_a_transaction_right_after_another_sends_no_ping(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(database)
    pings = Pings(database, monkeypatch)
    for _ in range(5):
        assert _backend(database) == first  # the same pooled connection
    assert pings.count == 0
    time.sleep(IDLE * 1.5)
    assert _backend(database) == first
    assert pings.count == 1  # it sat unused: pinged once, and alive


def test_a_connection_dropped_while_idle_is_replaced_before_the_transaction(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(database)
    pings = Pings(database, monkeypatch)
    _end(database, first)
    time.sleep(IDLE * 1.5)
    second = _backend(database)  # no error: the ping found it gone
    assert second != first
    assert pings.count == 1


def test_one_dropped_a_moment_after_use_fails_one_transaction_with_503(
    database: Database,
) -> None:
    first = _backend(database)
    _end(database, first)
    time.sleep(0.05)  # the server has closed it; the pool does not know yet
    with pytest.raises(errors.ServiceUnavailable):
        _backend(database)
    assert _backend(database) != first  # the pool gave up the dropped one
