"""Whole-database work on secret attributes: check that the configured keys
open every stored secret (at start-up) and seal them all again under the
first key (``vpnaas db rotate-key``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from vpnaas.db.engine import Database
from vpnaas.db.secrets import Sealer, SecretKeyError
from vpnaas.db.tables import Schema, schema
from vpnaas.settings import Settings
from vpnaas.spec import Catalog, Field, Resource, catalog

__all__ = ["check_configured", "check_keys", "forget_old_values", "rotate", "rotate_configured"]

LOG = logging.getLogger(__name__)


def _secrets(cat: Catalog) -> Iterator[tuple[Resource, Field]]:
    for res in cat.resources:
        for fld in res.stored:
            if fld.secret:
                yield res, fld


def check_keys(conn: Connection, schema: Schema, cat: Catalog, sealer: Sealer) -> int:
    """Open every sealed secret; returns how many are stored in clear.

    Raises:
        SecretKeyError: a sealed secret that no configured key opens (or
            sealed secrets and no key at all).
    """
    clear_rows = 0
    for res, fld in _secrets(cat):
        token = schema.field_columns(res, fld)[1]
        for (sealed,) in conn.execute(sa.select(token).where(token.is_not(None))):
            sealer.unseal(str(sealed))
        count = (
            sa.select(sa.func.count()).select_from(schema.table(res.member)).where(token.is_(None))
        )
        clear_rows += conn.scalar(count) or 0
    return clear_rows


def rotate(conn: Connection, schema: Schema, cat: Catalog, sealer: Sealer) -> int:
    """Seal every stored secret again under the first key (clear ones too);
    returns how many rows were written. Run it in one transaction: a
    secret no key opens stops it before anything is written.

    Raises:
        SecretKeyError: no key is configured, or a secret no key opens.
    """
    if not sealer.enabled:
        raise SecretKeyError("rotate-key needs [vpnaas] secret_key or secret_key_file")
    written = 0
    for res, fld in _secrets(cat):
        table = schema.table(res.member)
        cols = schema.field_columns(res, fld)
        rows = conn.execute(sa.select(table.c.id, *cols)).all()
        new_rows = [(row[0], sealer.seal(_value(sealer, row[1:]))) for row in rows]
        for obj_id, sealed in new_rows:
            conn.execute(
                sa.update(table)
                .where(table.c.id == obj_id)
                .values({col.name: value for col, value in zip(cols, sealed, strict=True)})
            )
            written += 1
    return written


def forget_old_values(engine: Engine) -> None:
    """SQLite keeps what a row held before an update in free pages and in its
    write-ahead log: rewrite the file and empty the log so that a secret
    sealed by :func:`rotate` is gone from the disk in clear. (PostgreSQL and
    MySQL keep old row versions until their own VACUUM/OPTIMIZE, which the
    README tells operators to run.)"""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


def check_configured(settings: Settings) -> None:
    """:func:`check_keys` with the keys and database of ``settings`` (start-up
    of ``vpnaas serve`` and of the WSGI application); warns about secrets
    still stored in clear when a key is set.

    Raises:
        SecretKeyError: as :func:`check_keys`, or a malformed key.
    """
    sealer = Sealer.configured(settings.secret_keys, settings.secret_key_file)
    db = Database(settings.database_url, settings.pool)
    try:
        with db.read() as conn:
            clear = check_keys(conn, schema(), catalog(), sealer)
    finally:
        db.dispose()
    if clear and sealer.enabled:
        LOG.warning("%s secret(s) are stored in clear: run `vpnaas db rotate-key`", clear)


def rotate_configured(settings: Settings) -> int:
    """:func:`rotate` in one transaction with the keys and database of
    ``settings``, then :func:`forget_old_values`."""
    sealer = Sealer.configured(settings.secret_keys, settings.secret_key_file)
    db = Database(settings.database_url, settings.pool)
    try:
        with db.write() as conn:
            count = rotate(conn, schema(), catalog(), sealer)
        forget_old_values(db.engine)
    finally:
        db.dispose()
    return count


def _value(sealer: Sealer, stored: tuple[object, ...]) -> str:
    clear, token, _digest = stored
    return str(clear) if token is None else sealer.unseal(str(token))
