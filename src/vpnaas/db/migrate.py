"""Schema migrations with Alembic: upgrade, check, downgrade.

The migration scripts live in ``vpnaas/db/migrations/versions``; they are
written once from the spec-derived tables, reviewed and frozen. ``check``
compares a migrated database with the tables the spec derives today.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from vpnaas.db.tables import schema

__all__ = ["check", "config", "current", "differences", "downgrade", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(config(engine), revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    command.downgrade(config(engine), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def differences(engine: Engine, metadata: MetaData | None = None) -> list[Any]:
    """What differs between the database and the spec-derived tables (or
    ``metadata``)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata or schema().metadata))


def check(engine: Engine) -> list[Any]:
    """``differences`` (empty when the schema matches)."""
    return differences(engine)
