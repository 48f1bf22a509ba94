"""The committed migrations build exactly the tables the spec derives."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from vpnaas.db import migrate
from vpnaas.db.engine import create_engine
from vpnaas.settings import PoolOptions


def test_upgrade_matches_spec_and_downgrade_empties(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/m.sqlite", PoolOptions())
    try:
        migrate.upgrade(engine)
        assert migrate.check(engine) == []
        assert migrate.current(engine) is not None
        migrate.downgrade(engine, "base")
        names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
        assert names == set()
    finally:
        engine.dispose()
