"""Seed SQLite databases for the benchmark, before any server starts.

One *template* database is built through vpnaas itself, in process: the
schema migration, the external network ``vpnaas serve`` would seed, then a
project's topology (network, subnet, router with a gateway and the subnet as
an interface) and its VPN objects (two services — one legacy with a subnet,
one for endpoint groups — two IKE and two IPsec policies, a local ``subnet``
and a peer ``cidr`` endpoint group) and one connection of each mode, all
created through the WSGI application so that every rule runs.

Each benchmark database is a copy of the template plus ``N - 2`` clones of
the two API-made connections (alternating modes, unique ids, names, peer
addresses and peer CIDRs) in one transaction. The clones copy the rows vpnaas
itself stored for the templates (found by reflecting the database: the
connection table and every table whose foreign key points at it), so they
hold exactly what the storage layer writes. ``Repo.insert`` would be the
other way, but it builds one statement per row (about 1.3 ms a connection:
over two minutes for 100,000); executemany takes a few seconds.
"""

from __future__ import annotations

import io
import ipaddress
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vpnaas.app import Application, create_app
from vpnaas.db import migrate
from vpnaas.settings import load
from vpnaas.topology.seed import seed_external_network

__all__ = ["PROJECT", "Topology", "add_connections", "build_template", "copy_db", "db_url"]

#: the project every benchmark object belongs to (sent as ``X-Project-Id``)
PROJECT = "7d3c0c9a61a94c38a1b2f1f0e0c4d5a6"
CONNECTIONS = "ipsec_site_connections"
#: peer CIDRs of clones are /28 blocks of 100.64.0.0/10 (room for 4M)
_PEER_BASE = int(ipaddress.IPv4Address("100.64.0.0"))


def db_url(path: Path | str) -> str:
    """The SQLAlchemy URL of a SQLite file, or ``path`` itself if it is a URL."""
    return path if isinstance(path, str) else f"sqlite:///{path}"


@dataclass
class Topology:
    """The ids the template database holds (what the load scripts need)."""

    legacy_service: str = ""
    group_service: str = ""
    ikepolicies: list[str] = field(default_factory=list)
    ipsecpolicies: list[str] = field(default_factory=list)
    local_group: str = ""
    peer_group: str = ""
    template_connections: list[str] = field(default_factory=list)

    def create_body(self) -> dict[str, Any]:
        """A legacy-mode connection create body (what the create load sends)."""
        return {
            "ipsec_site_connection": {
                "name": "bench-create",
                "vpnservice_id": self.legacy_service,
                "ikepolicy_id": self.ikepolicies[0],
                "ipsecpolicy_id": self.ipsecpolicies[0],
                "peer_address": "198.51.100.9",
                "peer_id": "198.51.100.9",
                "peer_cidrs": ["192.0.2.0/24"],
                "psk": "bench-secret",
            }
        }

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class InProcessClient:
    """Calls the WSGI application directly (no socket)."""

    def __init__(self, app: Application, project: str | None) -> None:
        self.app = app
        self.project = project

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        code, data = self.raw(method, path, body)
        return code, (json.loads(data) if data else None)

    def raw(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """The status code and the body's bytes, not decoded."""
        raw = b"" if body is None else json.dumps(body).encode()
        path, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(raw)),
        }
        if body is not None:
            environ["CONTENT_TYPE"] = "application/json"
        if self.project is not None:
            environ["HTTP_X_PROJECT_ID"] = self.project
        status: list[str] = []

        def start_response(st: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Any:
            status.append(st)
            return None

        chunks = self.app(environ, start_response)
        data = b"".join(chunks)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        return int(status[0].split()[0]), data

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        code, doc = self.call(method, path, body)
        if code >= 300:
            raise RuntimeError(f"{method} {path} -> {code}: {doc}")
        return doc


def _app(path: Path | str) -> Application:
    return create_app(load([], database_url=db_url(path)))


def build_template(path: Path | str) -> Topology:
    """Create the template database at ``path`` (a SQLite file, or the URL of
    an empty database on a server) and return its ids."""
    if isinstance(path, Path):
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    app = _app(path)
    try:
        migrate.upgrade(app.db.engine)
        external = seed_external_network(app.controller, load([]).seed)
        api = InProcessClient(app, PROJECT)
        return _topology(api, external)
    finally:
        app.db.dispose()


def _topology(api: InProcessClient, external: str | None) -> Topology:
    net = api.ok("POST", "/v2.0/networks", {"network": {"name": "bench-net"}})["network"]
    subnet = api.ok(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.10.0.0/24", "ip_version": 4}},
    )["subnet"]
    router = api.ok(
        "POST",
        "/v2.0/routers",
        {"router": {"name": "bench-router", "external_gateway_info": {"network_id": external}}},
    )["router"]
    api.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    topo = Topology()
    topo.legacy_service = api.ok(
        "POST",
        "/v2.0/vpn/vpnservices",
        {"vpnservice": {"name": "legacy", "router_id": router["id"], "subnet_id": subnet["id"]}},
    )["vpnservice"]["id"]
    topo.group_service = api.ok(
        "POST",
        "/v2.0/vpn/vpnservices",
        {"vpnservice": {"name": "groups", "router_id": router["id"]}},
    )["vpnservice"]["id"]
    for i, (auth, enc) in enumerate((("sha256", "aes-128"), ("sha384", "aes-256"))):
        topo.ikepolicies.append(
            api.ok(
                "POST",
                "/v2.0/vpn/ikepolicies",
                {
                    "ikepolicy": {
                        "name": f"ike-{i}",
                        "auth_algorithm": auth,
                        "encryption_algorithm": enc,
                        "lifetime": {"value": 28800},
                    }
                },
            )["ikepolicy"]["id"]
        )
        topo.ipsecpolicies.append(
            api.ok(
                "POST",
                "/v2.0/vpn/ipsecpolicies",
                {
                    "ipsecpolicy": {
                        "name": f"esp-{i}",
                        "auth_algorithm": auth,
                        "encryption_algorithm": enc,
                        "pfs": "group14",
                    }
                },
            )["ipsecpolicy"]["id"]
        )
    topo.local_group = api.ok(
        "POST",
        "/v2.0/vpn/endpoint-groups",
        {"endpoint_group": {"name": "local", "type": "subnet", "endpoints": [subnet["id"]]}},
    )["endpoint_group"]["id"]
    topo.peer_group = api.ok(
        "POST",
        "/v2.0/vpn/endpoint-groups",
        {
            "endpoint_group": {
                "name": "peers",
                "type": "cidr",
                "endpoints": ["192.168.50.0/24", "192.168.60.0/24"],
            }
        },
    )["endpoint_group"]["id"]
    legacy = topo.create_body()
    legacy["ipsec_site_connection"].update(name="conn-legacy", description="legacy mode")
    grouped = {
        "ipsec_site_connection": {
            "name": "conn-groups",
            "description": "endpoint-group mode",
            "vpnservice_id": topo.group_service,
            "ikepolicy_id": topo.ikepolicies[1],
            "ipsecpolicy_id": topo.ipsecpolicies[1],
            "local_ep_group_id": topo.local_group,
            "peer_ep_group_id": topo.peer_group,
            "peer_address": "203.0.113.77",
            "peer_id": "203.0.113.77",
            "psk": "bench-secret",
            "dpd": {"interval": 15},
        }
    }
    for doc in (legacy, grouped):
        created = api.ok("POST", "/v2.0/vpn/ipsec-site-connections", doc)
        topo.template_connections.append(created["ipsec_site_connection"]["id"])
    return topo


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a (WAL) SQLite database."""
    dst.unlink(missing_ok=True)
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
    target.close()
    source.close()


def _clone_rows(
    conn: sa.Connection,
    table: sa.Table,
    children: list[tuple[sa.Table, sa.Column[Any]]],
    count: int,
    start: int,
    prefix: str,
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], list[str]]:
    templates = [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(table)
            .where(table.c.name.in_(["conn-legacy", "conn-groups"]))
            .order_by(table.c.name.desc())
        )
    ]
    if len(templates) != 2:
        raise RuntimeError("the template connections are missing")
    kids: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for child, parent in children:
        for tmpl in templates:
            rows = conn.execute(sa.select(child).where(parent == tmpl["id"])).all()
            kids[(child.name, tmpl["id"])] = [dict(r._mapping) for r in rows]
    parents: list[dict[str, Any]] = []
    child_rows: dict[str, list[dict[str, Any]]] = {child.name: [] for child, _ in children}
    ids: list[str] = []
    for i in range(start, start + count):
        tmpl = templates[i % 2]
        row = dict(tmpl)
        row["id"] = str(uuid.uuid4())
        row["name"] = f"{prefix}conn-{i:06d}"
        row["peer_address"] = row["peer_id"] = f"198.51.{100 + (i // 250) % 150}.{i % 250 + 1}"
        row["status"] = "DOWN"
        parents.append(row)
        ids.append(row["id"])
        cidr = f"{ipaddress.IPv4Address(_PEER_BASE + 16 * i)}/28"
        for child, parent in children:
            for kid in kids[(child.name, tmpl["id"])]:
                new = {k: (cidr if isinstance(v, str) and "/" in v else v) for k, v in kid.items()}
                new[parent.name] = row["id"]
                child_rows[child.name].append(new)
    return parents, child_rows, ids


def add_connections(path: Path | str, count: int, *, start: int = 0, prefix: str = "") -> list[str]:
    """Insert ``count`` clones of the two template connections; their ids.

    The rows are copies of what the API stored for the templates (so every
    column holds a value vpnaas wrote itself), with a new id, name, peer
    address and peer CIDR, inserted with executemany in one transaction.
    ``start`` numbers the clones so that two batches in one database stay
    distinct; ``prefix`` goes before their names. ``path``: a SQLite file or
    a database URL.
    """
    if count <= 0:
        return []
    engine = sa.create_engine(db_url(path))
    meta = sa.MetaData()
    meta.reflect(engine)
    table = meta.tables[CONNECTIONS]
    children = [
        (child, fk.parent)
        for child in meta.tables.values()
        for fk in child.foreign_keys
        if fk.column.table is table and child is not table
    ]
    try:
        with engine.begin() as conn:
            parents, child_rows, ids = _clone_rows(conn, table, children, count, start + 2, prefix)
            conn.execute(sa.insert(table), parents)
            for child, _ in children:
                if child_rows[child.name]:
                    conn.execute(sa.insert(child), child_rows[child.name])
            _bump_revisions(conn)
    finally:
        engine.dispose()
    return ids


def _bump_revisions(conn: sa.Connection) -> None:
    """Count the bulk insert in vpnaas' per-resource write counters, if it keeps them.

    Seeding happens before any server starts, so no cache can hold the old
    list; the bump keeps the database as a real write would leave it.
    """
    inspector = sa.inspect(conn)
    if "revisions" not in inspector.get_table_names():
        return
    columns = {c["name"] for c in inspector.get_columns("revisions")}
    if {"resource", "number"} <= columns:
        conn.execute(
            sa.text(
                "INSERT INTO revisions (resource, number) VALUES (:member, 1) "
                "ON CONFLICT (resource) DO UPDATE SET number = revisions.number + 1"
            ),
            {"member": "ipsec_site_connection"},
        )


def seed_timed(path: Path, count: int) -> float:
    """``add_connections`` and its duration in seconds (for the report)."""
    started = time.perf_counter()
    add_connections(path, count)
    return time.perf_counter() - started
