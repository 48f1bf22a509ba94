"""The database engine and the one-transaction-per-request boundary.

``Database.read()`` and ``Database.write()`` open a connection inside a
transaction that commits when the block ends and rolls back on any error.
SQLite runs in WAL mode with foreign keys on; its write transactions start
with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the database lock
instead of failing when a read lock cannot be upgraded. A database that cannot
be reached becomes ``ServiceUnavailable`` (503), never a 500.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from vpnaas import errors
from vpnaas.settings import PoolOptions

__all__ = ["Database", "PoolOptions", "Retry", "Slot", "retrying"]

T = TypeVar("T")

LOG = logging.getLogger(__name__)

_SQLITE_BEGIN = "vpnaas_sqlite_begin"


def _sqlite_events(engine: Engine, opts: PoolOptions) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(opts.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str, opts: PoolOptions, *, autocommit: bool = False) -> Engine:
    """An engine for ``url`` configured for vpnaas' access pattern.

    ``autocommit`` (PostgreSQL, MySQL): a pool for single statements outside
    any transaction (:meth:`Database.peek`): no ``BEGIN``, no rollback when a
    connection goes back to the pool, no ping when it is taken out (a lost
    connection is found by the statement itself, and retried once), so each
    statement is one round trip to the server."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, pool_pre_ping=False, hide_parameters=True)
        _sqlite_events(engine, opts)
        return engine
    extra: dict[str, Any] = {"connect_args": {"connect_timeout": opts.connect_timeout}}
    if autocommit:
        extra.update(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    elif parsed.get_backend_name() in ("mysql", "mariadb"):
        # PostgreSQL's default; MariaDB >= 11.6's snapshot isolation would
        # otherwise fail writers that touch a row another transaction changed
        extra["isolation_level"] = "READ COMMITTED"
    engine = sa.create_engine(
        url,
        **extra,
        pool_size=opts.max_pool_size,
        max_overflow=opts.max_overflow,
        pool_timeout=opts.pool_timeout,
        pool_recycle=opts.connection_recycle_time,
        pool_pre_ping=False,
        hide_parameters=True,  # a psk must never reach a log line via an error
    )
    if not autocommit:
        _ping_when_idle(engine)
    return engine


#: a pooled connection unused for this long is pinged before a transaction
IDLE_PING = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection as it is taken out only when it sat unused
    for :data:`IDLE_PING` seconds or more; one the server dropped is
    replaced by a new one before the transaction begins. A connection given
    back moments ago is taken as it is: under load that saves every
    transaction a round trip (docs/decisions.md, "Databases")."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned")
        if returned is None or time.monotonic() - returned < IDLE_PING:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError() from exc  # the pool connects anew


#: SQLSTATEs / MySQL error numbers of a transaction the database gave up on
#: because of a concurrent one (deadlock, serialization failure, lock wait,
#: MariaDB's snapshot-isolation "record has changed")
_CONCURRENCY = frozenset({"40001", "40P01", "55P03", 1020, 1205, 1213})
#: PostgreSQL SQLSTATE classes/codes and MySQL error numbers of a lost or
#: refused connection
_CONNECTION_CLASSES = ("08",)
_CONNECTION = frozenset(
    {"57P01", "57P02", "57P03", "53300", 1040, 1053, 1927, 2002, 2003, 2006, 2013}
)


class _Lost(Exception):
    """A pooled connection the server had dropped: worth one more try."""


class Retry(Exception):
    """The transaction lost a race with a concurrent one: running it again
    may succeed (see :func:`retrying`)."""


def _codes(orig: Any) -> set[Any]:
    args = getattr(orig, "args", None) or (None,)
    return {getattr(orig, "sqlstate", None), args[0]}


def _translate(exc: sa.exc.DBAPIError) -> Exception:
    """What a database failure means to the client."""
    orig = exc.orig
    codes = _codes(orig)
    if codes & _CONCURRENCY or isinstance(exc, sa.exc.IntegrityError):
        LOG.info("transaction lost a race: %s", orig)
        return Retry(str(orig))
    connection_lost = (
        exc.connection_invalidated
        or isinstance(exc, sa.exc.InterfaceError)
        # psycopg: an error the server did not send (no SQLSTATE) is the client
        # failing to reach it, e.g. "connection refused"
        or (
            hasattr(orig, "sqlstate")
            and getattr(orig, "sqlstate", None) is None
            and isinstance(exc, sa.exc.OperationalError)
        )
        or codes & _CONNECTION
        or any(isinstance(c, str) and c.startswith(_CONNECTION_CLASSES) for c in codes)
        or "database is locked" in str(orig)
        or "unable to open database" in str(orig)
    )
    if connection_lost:
        LOG.warning("database unavailable: %s", orig)
        return errors.ServiceUnavailable(reason="the database cannot be reached")
    return exc


def retrying(call: Callable[[], T], attempts: int = 4) -> T:
    """Run ``call`` (one whole transaction) again when it lost a race; after
    ``attempts`` tries the client gets 409 ``Conflict``."""
    for attempt in range(attempts):
        try:
            return call()
        except Retry:
            time.sleep(random.uniform(0, 0.02 * (2**attempt)))  # noqa: S311 - jitter only
    raise errors.Conflict(msg="a concurrent request kept changing the same objects; retry")


@dataclass
class Slot:
    """Where :meth:`Database.peek` keeps a connection of its autocommit pool
    and a cursor on it between the statements of a caller that runs one at
    a time (a pool checkout and a new cursor cost about a third of the
    counter read's CPU on PostgreSQL, docs/decisions.md "Shared counter
    reads"). The connection goes back to the pool after
    ``connection_recycle_time``, for the pool to replace it when due."""

    raw: Any = None
    cursor: Any = None
    taken: float = 0.0

    def release(self) -> None:
        """Close the cursor and give the connection back to the pool."""
        raw, cursor = self.raw, self.cursor
        self.raw = self.cursor = None
        if cursor is not None:
            cursor.close()
        if raw is not None:
            raw.close()


class Database:
    """An engine plus the transaction boundaries the API uses."""

    def __init__(self, url: str, opts: PoolOptions | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, opts or PoolOptions())
        #: where :meth:`peek` runs on a database server (no connection until used)
        self.peeks = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else create_engine(url, opts or PoolOptions(), autocommit=True)
        )
        self.dialect = self.engine.dialect.name
        self.paramstyle = self.engine.dialect.paramstyle
        self._local = threading.local()
        self._slots: list[Slot] = []
        self._recycle = (opts or PoolOptions()).connection_recycle_time

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self._transaction("DEFERRED") as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (on SQLite, holding the write lock from the start)."""
        with self._transaction("IMMEDIATE") as conn:
            yield conn

    def statements(self, reads: Callable[[Connection], T]) -> T:
        """``reads`` on a connection whose statements need not share a
        snapshot (each sees what committed before it began): on SQLite a
        read transaction, which costs nothing in process; on a database
        server a connection of the autocommit pool, so no ping, ``BEGIN``
        or ``COMMIT`` round trip goes with them (docs/decisions.md, "Kept
        lists read without a transaction"). A pooled connection the server
        dropped fails its first statement: ``reads`` runs once more on a
        new one."""
        if self.is_sqlite:
            with self.read() as conn:
                return reads(conn)
        try:
            try:
                with self.peeks.connect() as conn:
                    return reads(conn)
            except sa.exc.DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            with self.peeks.connect() as conn:
                return reads(conn)
        except sa.exc.DBAPIError as exc:
            raise _translate(exc) from exc
        except sa.exc.TimeoutError as exc:
            raise errors.ServiceUnavailable(reason="no database connection is free") from exc

    @contextmanager
    def _transaction(self, sqlite_mode: str) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = conn.execution_options(**{_SQLITE_BEGIN: sqlite_mode})
                with conn.begin():
                    yield conn
        except sa.exc.DBAPIError as exc:
            raise _translate(exc) from exc
        except sa.exc.TimeoutError as exc:
            raise errors.ServiceUnavailable(reason="no database connection is free") from exc

    def slot(self) -> Slot:
        """A :class:`Slot` for :meth:`peek`, emptied by :meth:`dispose`."""
        slot = Slot()
        self._slots.append(slot)
        return slot

    def peek(
        self, sql: str, params: tuple[Any, ...], slot: Slot | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one read statement outside any transaction, in one round trip
        (no BEGIN, no rollback, no ping: the autocommit pool of
        :func:`create_engine`): for values a single statement reads
        consistently, such as write counters. A pooled connection the server
        dropped fails the statement; it is run once more on a new one. With
        ``slot`` (its caller never runs two statements at once), the
        connection stays there between statements instead of going back to
        the pool."""
        if self.is_sqlite:
            return self._peek_sqlite(sql, params)
        try:
            return self._peek(sql, params, slot)
        except _Lost:
            pass
        try:
            return self._peek(sql, params, slot)
        except _Lost as exc:
            raise errors.ServiceUnavailable(reason="the database cannot be reached") from exc

    def _peek(self, sql: str, params: tuple[Any, ...], slot: Slot | None) -> list[tuple[Any, ...]]:
        dbapi_error = self.peeks.dialect.loaded_dbapi.Error
        held = slot or Slot()
        try:
            cursor = self._cursor(held)
            # no parameters: the statement goes as written, nothing to parse
            cursor.execute(sql, params or None)
            return [tuple(row) for row in cursor.fetchall()]
        except sa.exc.DBAPIError as exc:
            raise _translate(exc) from exc
        except sa.exc.TimeoutError as exc:
            raise errors.ServiceUnavailable(reason="no database connection is free") from exc
        except dbapi_error as exc:
            raw = held.raw
            if raw is not None:  # else no connection could be made: nothing to retry
                lost = self.peeks.dialect.is_disconnect(exc, raw.dbapi_connection, None)
                held.raw = held.cursor = None
                raw.invalidate(exc)
                if lost:
                    raise _Lost from exc
            wrapped = sa.exc.DBAPIError.instance(sql, params, exc, dbapi_error)
            raise (
                _translate(wrapped) if isinstance(wrapped, sa.exc.DBAPIError) else wrapped
            ) from exc
        finally:
            if slot is None:
                held.release()

    def _cursor(self, slot: Slot) -> Any:
        """The cursor of ``slot``, on a connection from the pool if it has
        none (or had one past ``connection_recycle_time``)."""
        if 0 <= self._recycle < time.monotonic() - slot.taken:
            slot.release()
        if slot.raw is None:
            slot.raw, slot.taken = self.peeks.raw_connection(), time.monotonic()
        if slot.cursor is None:
            slot.cursor = slot.raw.cursor()
        return slot.cursor

    def _peek_sqlite(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """SQLite: each thread keeps one autocommit connection for these reads
        (a pool checkout costs more than the query; in WAL mode a statement
        sees the last commit of any process)."""
        conn: sqlite3.Connection | None = getattr(self._local, "peek", None)
        try:
            if conn is None:
                conn = sqlite3.connect(
                    self.engine.url.database or "", isolation_level=None, timeout=30
                )
                self._local.peek = conn
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]
        except sqlite3.Error as exc:
            self._local.peek = None
            raise errors.ServiceUnavailable(reason="the database cannot be reached") from exc

    def dispose(self) -> None:
        for slot in self._slots:
            slot.release()
        self.engine.dispose()
        self.peeks.dispose()
