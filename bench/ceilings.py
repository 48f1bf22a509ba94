"""The ceilings: bare WSGI apps on the same server stack as ``vpnaas serve``.

``python -m bench.ceilings static|insert|floor --port P --workers W --data DIR``
serves one of these apps through granian exactly as ``vpnaas serve`` does
(WSGI interface, ``factory=True``, no access log, the same worker count
and request threads, the other options left at granian's defaults as
vpnaas leaves them):

``static`` (ceiling a)
    Answers each request target (path and query) in ``DIR/static.json`` with
    the exact bytes vpnaas returned for it, read from disk once at start-up:
    the cost of HTTP, granian and WSGI around a response that costs nothing
    to build.

``insert`` (ceiling b)
    Reads the request body, then runs one ``BEGIN IMMEDIATE`` / ``INSERT`` /
    ``COMMIT`` of that body under a fresh UUID into a SQLite file with the
    pragmas vpnaas sets (WAL, ``synchronous=NORMAL``, foreign keys, busy
    timeout), through the standard library's ``sqlite3`` (one connection per
    thread), and answers 201 with the bytes vpnaas answered for a create.
    The stdlib driver is the honest floor: it is the DB-API module
    SQLAlchemy itself drives, so the ceiling is one durable SQLite write plus
    the HTTP stack, and everything vpnaas adds (SQLAlchemy, validation,
    policy, rule queries, the status write) is what the ratio measures.

``floor`` (not a ceiling: a yardstick for the create target)
    What a connection create must do to the database, and nothing else:
    in ``DIR/floor.sqlite`` (a copy of the write database), one
    ``BEGIN IMMEDIATE`` transaction that reads the service, both policies,
    the service's subnet and the router's gateway addresses, inserts the
    connection row (a copy of the first seeded connection with the body's
    values), its peer CIDRs and the write counter, and commits; then the
    status change to ``DOWN`` in a transaction of its own (DESIGN: drivers
    run after the commit). Stdlib ``sqlite3``, no validation, no policy, no
    SQLAlchemy: the best any implementation of the same storage could do.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

__all__ = ["floor_app", "insert_app", "main", "static_app"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

DATA_ENV = "BENCH_CEILING_DATA"
_JSON = "application/json"
_NOT_FOUND = b'{"error": "unknown request target"}'


def _target(environ: dict[str, Any]) -> str:
    query: str = environ.get("QUERY_STRING", "")
    path: str = environ.get("PATH_INFO", "")
    return path + (f"?{query}" if query else "")


def static_app() -> WSGIApp:
    """Ceiling (a): the exact response bytes, encoded once."""
    data = Path(os.environ[DATA_ENV])
    index: dict[str, str] = json.loads((data / "static.json").read_text())
    bodies = {target: (data / name).read_bytes() for target, name in index.items()}
    responses = {
        target: [("Content-Type", _JSON), ("Content-Length", str(len(body)))]
        for target, body in bodies.items()
    }

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = _target(environ)
        body = bodies.get(target)
        if body is None:
            if environ.get("PATH_INFO") == "/":
                start_response("200 OK", [("Content-Type", _JSON), ("Content-Length", "2")])
                return [b"{}"]
            start_response("404 Not Found", [("Content-Type", _JSON)])
            return [_NOT_FOUND]
        start_response("200 OK", responses[target])
        return [body]

    return app


def _sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def prepare_insert_db(path: Path) -> None:
    with _sqlite(path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS rows (id VARCHAR(36) PRIMARY KEY, body TEXT NOT NULL)"
        )
    conn.close()


def _probe(environ: dict[str, Any], start_response: StartResponse) -> list[bytes] | None:
    """The answer to the harness' readiness GET; None for a write."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    start_response("200 OK", [("Content-Type", _JSON), ("Content-Length", "2")])
    return [b"{}"]


def _body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    return body


def _connection(local: threading.local, path: Path) -> sqlite3.Connection:
    """This thread's connection to ``path`` (rows by name)."""
    conn: sqlite3.Connection | None = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = _sqlite(path)
        conn.row_factory = sqlite3.Row
    return conn


def insert_app() -> WSGIApp:
    """Ceiling (b): one minimal SQLite insert and commit per request."""
    data = Path(os.environ[DATA_ENV])
    created = (data / "create.json").read_bytes()
    headers = [("Content-Type", _JSON), ("Content-Length", str(len(created)))]
    local = threading.local()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        probed = _probe(environ, start_response)
        if probed is not None:
            return probed
        body = _body(environ)
        conn = _connection(local, data / "insert.sqlite")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO rows (id, body) VALUES (?, ?)",
                (str(uuid.uuid4()), body.decode("utf-8", "replace")),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        start_response("201 Created", headers)
        return [created]

    return app


_CONNS = "ipsec_site_connections"
_BUMP = (
    "INSERT INTO revisions (resource, number) VALUES (?, 1)"
    " ON CONFLICT (resource) DO UPDATE SET number = number + 1"
)
_GATEWAY_IPS = (
    "SELECT f.ip_address FROM ports p JOIN ports_fixed_ips f ON f.parent_id = p.id"
    " WHERE p.device_id = ? AND p.device_owner = 'network:router_gateway'"
)
_SETTLE = (
    f"UPDATE {_CONNS} SET status = 'DOWN' WHERE id = ?"
    " AND status IN ('PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE')"
)


def floor_app() -> WSGIApp:
    """The floor of a connection create: its statements alone (see above)."""
    path = Path(os.environ[DATA_ENV]) / "floor.sqlite"
    with _sqlite(path) as first:
        first.row_factory = sqlite3.Row
        template = dict(first.execute(f"SELECT * FROM {_CONNS} LIMIT 1").fetchone())
    first.close()
    columns = list(template)
    insert = f"INSERT INTO {_CONNS} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    local = threading.local()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        probed = _probe(environ, start_response)
        if probed is not None:
            return probed
        body = json.loads(_body(environ))["ipsec_site_connection"]
        conn = _connection(local, path)
        row = {
            **template,
            **{k: v for k, v in body.items() if k in template},
            "id": str(uuid.uuid4()),
            "status": "PENDING_CREATE",
        }
        conn.execute("BEGIN IMMEDIATE")
        try:
            service = conn.execute(
                "SELECT * FROM vpnservices WHERE id = ?", (body["vpnservice_id"],)
            ).fetchone()
            for table, key in (
                ("ikepolicies", "ikepolicy_id"),
                ("ipsecpolicies", "ipsecpolicy_id"),
            ):
                conn.execute(f"SELECT * FROM {table} WHERE id = ?", (body[key],)).fetchone()
            conn.execute("SELECT * FROM subnets WHERE id = ?", (service["subnet_id"],)).fetchone()
            conn.execute(_GATEWAY_IPS, (service["router_id"],)).fetchall()
            conn.execute(insert, [row[c] for c in columns])
            conn.executemany(
                f"INSERT INTO {_CONNS}_peer_cidrs (parent_id, position, value) VALUES (?, ?, ?)",
                [(row["id"], i, cidr) for i, cidr in enumerate(body.get("peer_cidrs", []))],
            )
            conn.execute(_BUMP, ("ipsec_site_connection",))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        created = orjson.dumps({"ipsec_site_connection": row})
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_SETTLE, (row["id"],))
        conn.execute(_BUMP, ("ipsec_site_connection",))
        conn.execute("COMMIT")
        start_response(
            "201 Created", [("Content-Type", _JSON), ("Content-Length", str(len(created)))]
        )
        return [created]

    return app


def main() -> int:
    from vpnaas.cli import run_granian
    from vpnaas.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bench.ceilings")
    parser.add_argument("kind", choices=["static", "insert", "floor"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data", type=Path, required=True)
    # the same request threads as `vpnaas serve` on SQLite
    parser.add_argument("--threads", type=int, default=Settings().request_threads)
    args = parser.parse_args()
    os.environ[DATA_ENV] = str(args.data.resolve())
    if args.kind == "insert":
        prepare_insert_db(args.data / "insert.sqlite")
    run_granian(f"bench.ceilings:{args.kind}_app", args.host, args.port, args.workers, args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
