"""Console sessions in the database: a live one is found by its cookie value
only, an expired or ended one never (on SQLite, and on PostgreSQL and
MariaDB when the database suite sets ``VPNAAS_TEST_DATABASE_URL``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.fixtures import SERVER_URL_ENV
from tests.support import databases
from vpnaas.db.engine import Database
from vpnaas.db.tables import schema
from vpnaas.ui.sessions import Login, SessionStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    server = os.environ.get(SERVER_URL_ENV)
    url = databases.create_database(server) if server else f"sqlite:///{tmp_path}/s.sqlite"
    db = Database(url)
    try:
        schema().metadata.create_all(db.engine)
        yield SessionStore(db, schema().sessions)
    finally:
        db.dispose()
        if server:
            databases.drop_database(url)


def login(seconds: float, token: str | None = "a-token") -> Login:
    return Login(
        auth="keystone",
        user_name="alice",
        user_id="u1",
        project_id="p1",
        roles=("member", "reader"),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds),
        token=token,
    )


def test_a_live_session_is_found_by_its_id_and_ends_on_delete(store: SessionStore) -> None:
    session_id, made = store.create(login(600))
    found = store.get(session_id)
    assert found is not None
    assert found.csrf_token == made.csrf_token
    assert (found.login.user_name, found.login.project_id) == ("alice", "p1")
    assert found.login.roles == ("member", "reader")
    assert found.login.token == "a-token"
    assert abs(found.login.expires_at - made.login.expires_at) < dt.timedelta(seconds=1)
    assert store.get(session_id + "x") is None
    store.delete(session_id)
    assert store.get(session_id) is None


def test_an_expired_session_is_never_answered_and_is_purged(store: SessionStore) -> None:
    expired, _ = store.create(login(-1))
    assert store.get(expired) is None
    store.create(login(600))  # a login removes the expired rows
    with store.db.read() as conn:
        keys = conn.execute(store.table.select()).fetchall()
    assert len(keys) == 1
    assert all(expired not in str(row) for row in keys)  # only its hash was ever stored
