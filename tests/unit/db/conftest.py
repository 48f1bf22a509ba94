"""A real SQLite database migrated the way ``vpnaas db upgrade`` does it,
and a repository over one write transaction of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vpnaas.db import migrate
from vpnaas.db.engine import Database
from vpnaas.db.repo import Repo
from vpnaas.db.tables import schema


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path}/vpnaas.sqlite")
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def repo(database: Database) -> Iterator[Repo]:
    """A repository over a write transaction, committed at the end."""
    with database.write() as conn:
        yield Repo(conn, schema())
