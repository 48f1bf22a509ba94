"""The production figures' own yardsticks: bare WSGI apps on vpnaas' stack.

``python -m bench.production_ceilings rows|floor --url URL --port P --workers W``
serves one of these through granian as ``vpnaas serve`` does (the same
``run_granian`` call, with the request threads vpnaas uses on that database):

``rows`` (the ceiling of the uncached list)
    Per request, on this thread's connection of the raw DB-API driver
    (``sqlite3`` or ``psycopg``, the modules SQLAlchemy itself drives), the
    two SELECTs vpnaas runs for a list of connections (the rows of the
    project in id order, then their peer CIDRs), in one read transaction on
    PostgreSQL; one dict per row with its peer CIDRs, encoded by
    ``orjson``. No validation, no policy, no SQLAlchemy, no cache: the
    cheapest a server can build the same answer from the same database.

``checked`` (the floor of a cached answer that keeps read-your-writes)
    The exact bytes of a list (read once from ``--body``), answered after
    one round trip that reads one write counter on this thread's
    autocommit ``psycopg`` connection (or ``sqlite3`` one): the least a
    server must do per request to know that no worker or host has written
    since it encoded them. Against the static ceiling it shows what one
    round trip per answer costs on its own. A ``PUT`` of a connection's
    ``description`` is the least an update can be: one transaction of the
    UPDATE and the write counter's bump, a small answer. Updates among
    saturating lists on it, against updates alone, are what the same
    front keeps for writes when neither side costs more than that.

``floor`` (PostgreSQL; SQLite's is ``bench.ceilings floor``)
    The create floor of ``bench/ceilings.py`` on PostgreSQL through
    ``psycopg``: one transaction that reads the service, both policies, the
    service's subnet and the router's gateway addresses, inserts the
    connection (a copy of a seeded one with the body's values), its peer
    CIDRs and the write counter; then the status change in a transaction of
    its own (docs/api/vpn-services.md §status: drivers run after the commit).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

from bench.ceilings import StartResponse, WSGIApp, _body, _probe, _sqlite
from bench.seed import PROJECT

__all__ = ["checked_app", "floor_app", "main", "rows_app"]

URL_ENV = "BENCH_PRODUCTION_URL"
BODY_ENV = "BENCH_PRODUCTION_BODY"
_JSON = "application/json"
_CONNS = "ipsec_site_connections"
_COLUMNS = (
    "id, project_id, name, description, local_id, peer_address, peer_id, local_ep_group_id,"
    " peer_ep_group_id, route_mode, mtu, initiator, auth_mode, dpd_action, dpd_interval,"
    " dpd_timeout, admin_state_up, status, vpnservice_id, ikepolicy_id, ipsecpolicy_id,"
    " split_selector, status_reason"
)


def _statements(mark: str) -> tuple[str, str]:
    rows = f"SELECT {_COLUMNS} FROM {_CONNS} WHERE project_id = {mark} ORDER BY id"
    cidrs = (
        f"SELECT parent_id, value FROM {_CONNS}_peer_cidrs WHERE parent_id IN"
        f" (SELECT id FROM {_CONNS} WHERE project_id = {mark}) ORDER BY parent_id, position"
    )
    return rows, cidrs


class _Driver:
    """This thread's DB-API connection to the database of a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = sa.engine.make_url(url)
        self.local = threading.local()
        self.mark = "?" if self.sqlite else "%s"

    @property
    def sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def connect(self, autocommit: bool = False) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            if self.sqlite:
                conn = _sqlite(Path(str(self.url.database)))
            else:
                conn = psycopg.connect(
                    host=self.url.host,
                    port=self.url.port,
                    user=self.url.username,
                    password=self.url.password,
                    dbname=self.url.database,
                    autocommit=autocommit,
                )
            self.local.conn = conn
        return conn


def rows_app() -> WSGIApp:
    """The uncached list's ceiling: select, make dicts, encode, per request."""
    driver = _Driver(os.environ[URL_ENV])
    rows_sql, cidrs_sql = _statements(driver.mark)
    names = [c.strip() for c in _COLUMNS.split(",")]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        conn = driver.connect()
        rows = conn.execute(rows_sql, (PROJECT,)).fetchall()
        cidrs = conn.execute(cidrs_sql, (PROJECT,)).fetchall()
        if not driver.sqlite:
            conn.commit()
        peers: dict[str, list[str]] = {}
        for parent, value in cidrs:
            peers.setdefault(parent, []).append(value)
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            item["peer_cidrs"] = peers.get(item["id"], [])
            out.append(item)
        body = orjson.dumps({_CONNS: out})
        start_response("200 OK", [("Content-Type", _JSON), ("Content-Length", str(len(body)))])
        return [body]

    return app


_BUMP = (
    "INSERT INTO revisions (resource, number) VALUES (%s, 1)"
    " ON CONFLICT (resource) DO UPDATE SET number = revisions.number + 1"
)


def checked_app() -> WSGIApp:
    """Static bytes after one counter read per request (see the module's docstring)."""
    driver = _Driver(os.environ[URL_ENV])
    body = Path(os.environ[BODY_ENV]).read_bytes()
    headers = [("Content-Type", _JSON), ("Content-Length", str(len(body)))]
    counter = f"SELECT number FROM revisions WHERE resource = {driver.mark}"
    update = f"UPDATE {_CONNS} SET description = {driver.mark} WHERE id = {driver.mark}"
    bump = _BUMP.replace("%s", driver.mark)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        conn = driver.connect(autocommit=True)
        if environ["REQUEST_METHOD"] == "PUT":
            return _update(conn, environ, start_response)
        conn.execute(counter, ("ipsec_site_connection",)).fetchall()
        start_response("200 OK", headers)
        return [body]

    def _update(conn: Any, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        obj = environ["PATH_INFO"].rsplit("/", 1)[-1]
        description = json.loads(_body(environ))["ipsec_site_connection"]["description"]
        conn.execute("BEGIN IMMEDIATE" if driver.sqlite else "BEGIN")
        try:
            conn.execute(update, (description, obj))
            conn.execute(bump, ("ipsec_site_connection",))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        answer = orjson.dumps({"ipsec_site_connection": {"id": obj, "description": description}})
        start_response("200 OK", [("Content-Type", _JSON), ("Content-Length", str(len(answer)))])
        return [answer]

    return app


_GATEWAY_IPS = (
    "SELECT f.ip_address FROM ports p JOIN ports_fixed_ips f ON f.parent_id = p.id"
    " WHERE p.device_id = %s AND p.device_owner = 'network:router_gateway'"
)
_SETTLE = (
    f"UPDATE {_CONNS} SET status = 'DOWN' WHERE id = %s"
    " AND status IN ('PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE')"
)


def floor_app() -> WSGIApp:
    """The create floor on PostgreSQL (see the module's docstring)."""
    driver = _Driver(os.environ[URL_ENV])
    with driver.connect().cursor(row_factory=psycopg.rows.dict_row) as cur:
        template = cur.execute(f"SELECT * FROM {_CONNS} LIMIT 1").fetchone()
    driver.connect().commit()
    assert template is not None
    columns = list(template)
    insert = (
        f"INSERT INTO {_CONNS} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        probed = _probe(environ, start_response)
        if probed is not None:
            return probed
        body = json.loads(_body(environ))["ipsec_site_connection"]
        conn: psycopg.Connection[Any] = driver.connect()
        row = {
            **template,
            **{k: v for k, v in body.items() if k in template},
            "id": str(uuid.uuid4()),
            "status": "PENDING_CREATE",
        }
        with conn.transaction(), conn.cursor() as cur:
            service = cur.execute(
                "SELECT subnet_id, router_id FROM vpnservices WHERE id = %s",
                (body["vpnservice_id"],),
            ).fetchone()
            assert service is not None
            for table, key in (
                ("ikepolicies", "ikepolicy_id"),
                ("ipsecpolicies", "ipsecpolicy_id"),
            ):
                cur.execute(f"SELECT * FROM {table} WHERE id = %s", (body[key],)).fetchone()
            cur.execute("SELECT * FROM subnets WHERE id = %s", (service[0],)).fetchone()
            cur.execute(_GATEWAY_IPS, (service[1],)).fetchall()
            cur.execute(insert, [row[c] for c in columns])
            cur.executemany(
                f"INSERT INTO {_CONNS}_peer_cidrs (parent_id, position, value) VALUES (%s, %s, %s)",
                [(row["id"], i, cidr) for i, cidr in enumerate(body.get("peer_cidrs", []))],
            )
            cur.execute(_BUMP, ("ipsec_site_connection",))
        created = orjson.dumps({"ipsec_site_connection": row}, default=str)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(_SETTLE, (row["id"],))
            cur.execute(_BUMP, ("ipsec_site_connection",))
        start_response(
            "201 Created", [("Content-Type", _JSON), ("Content-Length", str(len(created)))]
        )
        return [created]

    return app


def main() -> int:
    from vpnaas.cli import run_granian
    from vpnaas.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bench.production_ceilings")
    parser.add_argument("kind", choices=["rows", "checked", "floor"])
    parser.add_argument("--url", required=True, help="the SQLAlchemy URL of the database")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--body", help="checked: the file of the bytes to answer")
    args = parser.parse_args()
    os.environ[URL_ENV] = args.url
    if args.body:
        os.environ[BODY_ENV] = args.body
    threads = Settings(database_url=args.url).request_threads  # as vpnaas serve on it
    app = f"bench.production_ceilings:{args.kind}_app"
    run_granian(app, args.host, args.port, args.workers, threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
