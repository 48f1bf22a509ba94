"""Private PostgreSQL/MariaDB servers and throw-away databases for the tests.

Servers are started and stopped by ``scripts/db-server`` (see its header):
:func:`running_server` gives a test session a private server in a temporary
directory on a free loopback port and stops it (by its data directory) at the
end. :func:`create_database` makes a fresh, uniquely named database on a
running server and returns its SQLAlchemy URL; :func:`drop_database` removes
it again (:func:`fresh_database` does both); :func:`migrated` opens vpnaas'
:class:`~vpnaas.db.engine.Database` on one, migrated to the newest schema.

Collation of the databases made here, unless ``collation`` or the environment
variable ``VPNAAS_TEST_DATABASE_COLLATION`` says otherwise:

* MariaDB/MySQL: ``utf8mb4`` with ``utf8mb4_bin``. vpnaas compares strings
  exactly and sorts them by code point, as SQLite and Python do; a ``_ci``
  collation (Debian's server default ``utf8mb4_general_ci``) would make
  ``?name=Foo`` match ``foo`` and unique keys case-insensitive, and a 3-byte
  ``utf8``/``latin1`` database cannot hold every string the API accepts.
  ``utf8mb4_bin`` is also the collation vpnaas names in its ORDER BY.
  Run with ``VPNAAS_TEST_DATABASE_COLLATION=utf8mb4_general_ci`` to see how
  vpnaas fares on a database an operator created with the server default.
* PostgreSQL: the server default, which ``scripts/db-server`` makes a
  linguistic ICU ``en-US`` collation (like a production ``en_US.UTF-8``
  cluster); vpnaas asks for ``COLLATE "C"`` where it needs code-point order.
  ``C`` or another ICU locale name may be given instead.

Only loopback addresses are used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from tests.support.net import free_port
from vpnaas.db import migrate
from vpnaas.db.engine import Database

__all__ = [
    "COLLATION_ENV",
    "KINDS",
    "SCRIPT",
    "DatabaseServer",
    "create_database",
    "drop_database",
    "free_port",
    "fresh_database",
    "migrated",
    "running_server",
    "start_server",
    "stop_server",
]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "db-server"
KINDS = ("postgresql", "mariadb")
COLLATION_ENV = "VPNAAS_TEST_DATABASE_COLLATION"
MYSQL_DEFAULT_COLLATION = "utf8mb4_bin"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_COLLATION = re.compile(r"^[A-Za-z0-9_.@=-]{1,64}$")


@dataclass(frozen=True)
class DatabaseServer:
    """A private server started by ``scripts/db-server``."""

    kind: str
    directory: Path
    port: int
    url: str

    def stop(self) -> None:
        stop_server(self.kind, self.directory)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown database server kind {kind!r} (one of {', '.join(KINDS)})")


def start_server(kind: str, directory: Path, port: int | None = None) -> DatabaseServer:
    """Start a ``kind`` server with its files under ``directory``; wait until it answers."""
    _check_kind(kind)
    port = port or free_port()
    done = subprocess.run(
        [str(SCRIPT), "start", kind, str(directory), str(port)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"db-server start {kind} failed:\n{done.stderr}{done.stdout}")
    url = done.stdout.strip().splitlines()[-1]
    return DatabaseServer(kind=kind, directory=directory, port=port, url=url)


def stop_server(kind: str, directory: Path) -> None:
    """Stop the ``kind`` server whose files are under ``directory`` (only that one)."""
    _check_kind(kind)
    subprocess.run([str(SCRIPT), "stop", kind, str(directory)], check=True)


@contextmanager
def running_server(kind: str, directory: Path | None = None) -> Iterator[DatabaseServer]:
    """A private server for the duration of the block (in a temporary directory
    removed afterwards unless ``directory`` is given)."""
    own = directory is None
    where = Path(tempfile.mkdtemp(prefix=f"vpnaas-{kind}-")) if directory is None else directory
    try:
        server = start_server(kind, where)
        try:
            yield server
        finally:
            server.stop()
    finally:
        if own:
            shutil.rmtree(where, ignore_errors=True)


def _admin_engine(url: URL) -> Engine:
    """An autocommit engine on the server of ``url``, outside any test database."""
    admin = url.set(database="postgres" if url.get_backend_name() == "postgresql" else None)
    return sa.create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _create_sql(backend: str, name: str, collation: str | None) -> str:
    if collation is not None and not _COLLATION.match(collation):
        raise ValueError(f"bad collation name {collation!r}")
    if backend == "postgresql":
        if collation is None:
            return f'CREATE DATABASE "{name}"'
        if collation.upper() in ("C", "POSIX"):
            return (
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE 'C' LOCALE_PROVIDER libc"
            )
        return (
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
            f"LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE '{collation}'"
        )
    if backend in ("mysql", "mariadb"):
        collation = collation or MYSQL_DEFAULT_COLLATION
        charset = collation.split("_", 1)[0]
        return f"CREATE DATABASE `{name}` CHARACTER SET {charset} COLLATE {collation}"
    raise ValueError(f"no test databases on {backend!r}")


def create_database(
    server_url: str, *, name: str | None = None, collation: str | None = None
) -> str:
    """Create a new database on the server of ``server_url``; return its URL.

    ``name`` defaults to a unique ``vpnaas_t_<hex>``; ``collation`` to
    ``$VPNAAS_TEST_DATABASE_COLLATION`` or the default described above.
    """
    url = sa.engine.make_url(server_url)
    name = name or f"vpnaas_t_{uuid.uuid4().hex[:24]}"
    if not _NAME.match(name):
        raise ValueError(f"bad database name {name!r}")
    collation = collation or os.environ.get(COLLATION_ENV) or None
    sql = _create_sql(url.get_backend_name(), name, collation)
    _run_admin(url, sql)
    return url.set(database=name).render_as_string(hide_password=False)


def _run_admin(url: sa.engine.URL, sql: str) -> None:
    """Run one statement as the server's administrator (outside any database)."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def drop_database(database_url: str) -> None:
    """Drop the database of ``database_url`` (closing its other sessions on PostgreSQL)."""
    url = sa.engine.make_url(database_url)
    name = url.database or ""
    if not _NAME.match(name):
        raise ValueError(f"bad database name {name!r}")
    if url.get_backend_name() == "postgresql":
        sql = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    else:
        sql = f"DROP DATABASE IF EXISTS `{name}`"
    for attempt in range(40):
        try:
            _run_admin(url, sql)
            return
        except sa.exc.ProgrammingError as exc:
            # an autovacuum worker on that database: FORCE cannot end a
            # backend of another role, and the worker is done in moments
            if "must be a member of the role" not in str(exc) or attempt == 39:
                raise
            time.sleep(0.25)


@contextmanager
def fresh_database(server_url: str, *, collation: str | None = None) -> Iterator[str]:
    """A new database for the duration of the block, dropped afterwards."""
    url = create_database(server_url, collation=collation)
    try:
        yield url
    finally:
        drop_database(url)


@contextmanager
def migrated(url: str) -> Iterator[Database]:
    """vpnaas' :class:`Database` on ``url``, migrated to the newest schema as
    ``vpnaas db upgrade`` does, for the duration of the block."""
    db = Database(url)
    try:
        migrate.upgrade(db.engine)
        yield db
    finally:
        db.dispose()
