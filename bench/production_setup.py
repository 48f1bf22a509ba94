"""The databases and servers of ``python -m bench.production``.

SQLite databases are files seeded as ``bench/seed.py`` does; PostgreSQL
runs as a private server of ``scripts/db-server`` (``tests/support``: a
throw-away cluster in the work directory, on its own loopback port, without
fsync) and its databases are copies of one seeded database (``CREATE
DATABASE ... TEMPLATE``). Every database holds 1,000 connections of one
project. Every server is started by the harness and stopped by its pid
(the PostgreSQL server by its data directory's pid file).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from tests.support.databases import DatabaseServer, create_database, start_server

from bench import seed
from bench.servers import Process, ceiling_command, free_port, vpnaas_command

__all__ = ["DBS", "Stack", "start_stack"]

CONNS = "/v2.0/vpn/ipsec-site-connections"
HEADERS = (("X-Project-Id", seed.PROJECT),)
ROWS = 1000
#: the databases of each kind: the list server's, the uncached one's, the creates'
#: (and ``rw``: the ``checked`` ceiling's that takes updates, for d')
DBS = ("list", "nocache", "write")


def _serve(url: str, workers: int, *extra: str) -> Callable[[int], list[str]]:
    """``vpnaas serve`` on ``url``, given its port."""
    return lambda port: vpnaas_command(url, port, workers, *extra)


def production_ceiling(
    kind: str, url: str, port: int, workers: int = 1, options: tuple[str, ...] = ()
) -> list[str]:
    """A ceiling of ``bench/production_ceilings.py`` on the database at ``url``."""
    return ceiling_command(
        kind, port, workers, module="bench.production_ceilings", options=("--url", url, *options)
    )


@dataclass
class Stack:
    """Everything one run starts, by name (``sqlite-list``, ``pg-nocache``, ...)."""

    workdir: Path
    topo: dict[str, seed.Topology] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    update_ids: dict[str, Path] = field(default_factory=dict)
    procs: dict[str, Process] = field(default_factory=dict)
    pg: DatabaseServer | None = None

    def add(self, name: str, command: Callable[[int], list[str]], workers: int = 1) -> None:
        """A server ``name`` whose command line is ``command(port)``."""
        port = free_port()
        log = self.workdir / f"{name}.log"
        self.procs[name] = Process(name, command(port), port, log, workers)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()
        if self.pg is not None:
            self.pg.stop()


def _seed_sqlite(stack: Stack) -> None:
    work = stack.workdir
    template = work / "template.sqlite"
    stack.topo["sqlite"] = seed.build_template(template)
    first = work / "sqlite-list.sqlite"
    seed.copy_db(template, first)
    ids = seed.add_connections(first, ROWS - 2)
    for name in (*DBS, "rw"):
        path = work / f"sqlite-{name}.sqlite"
        if path != first:
            seed.copy_db(first, path)
        stack.urls[f"sqlite-{name}"] = seed.db_url(path)
    (work / "ceilings").mkdir(exist_ok=True)
    seed.copy_db(first, work / "ceilings" / "floor.sqlite")  # bench.ceilings' floor reads it
    stack.update_ids["sqlite"] = work / "sqlite-update.ids"
    stack.update_ids["sqlite"].write_text("\n".join(ids) + "\n")


def _seed_postgresql(stack: Stack) -> None:
    # the server runs as the postgres user when we are root: it must reach its directory
    stack.workdir.chmod(stack.workdir.stat().st_mode | 0o001)
    (stack.workdir / "pg").mkdir(exist_ok=True)
    stack.pg = start_server("postgresql", stack.workdir / "pg")
    first = create_database(stack.pg.url, name="bench_list")
    stack.topo["pg"] = seed.build_template(first)
    ids = seed.add_connections(first, ROWS - 2)
    stack.urls["pg-list"] = first
    admin = sa.create_engine(
        sa.engine.make_url(stack.pg.url).set(database="postgres"),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            for name in (*DBS[1:], "floor", "rw"):
                conn.exec_driver_sql(f'CREATE DATABASE "bench_{name}" TEMPLATE "bench_list"')
                stack.urls[f"pg-{name}"] = (
                    sa.engine.make_url(first)
                    .set(database=f"bench_{name}")
                    .render_as_string(hide_password=False)
                )
    finally:
        admin.dispose()
    stack.update_ids["pg"] = stack.workdir / "pg-update.ids"
    stack.update_ids["pg"].write_text("\n".join(ids) + "\n")


def fetch(url: str) -> bytes:
    req = urllib.request.Request(url, headers=dict(HEADERS))
    with urllib.request.urlopen(req, timeout=120) as resp:
        body: bytes = resp.read()
        return body


def start_stack(workdir: Path) -> Stack:
    """Seed, start every server and the ceilings; the caller stops them."""
    stack = Stack(workdir)
    try:
        _seed_sqlite(stack)
        _seed_postgresql(stack)
        seed.copy_db(workdir / "sqlite-list.sqlite", workdir / "sqlite-list2w.sqlite")
        stack.urls["sqlite-list2w"] = seed.db_url(workdir / "sqlite-list2w.sqlite")
        for db in ("sqlite", "pg"):
            # the list server: 2 workers on PostgreSQL (production), 1 on SQLite
            workers = 2 if db == "pg" else 1
            urls = {role: stack.urls[f"{db}-{role}"] for role in DBS}
            stack.add(f"{db}-list", _serve(urls["list"], workers), workers)
            stack.add(f"{db}-write", _serve(urls["write"], 1))
            stack.add(f"{db}-nocache", _serve(urls["nocache"], 1, "--no-response-cache"))
            stack.add(f"{db}-rows", partial(production_ceiling, "rows", urls["nocache"]))
        # a): the PostgreSQL list server again, answering where it receives
        stack.add("pg-list-1t", _serve(stack.urls["pg-list"], 2, "--threads", "1"), 2)
        stack.add("sqlite-list2w", _serve(stack.urls["sqlite-list2w"], 2), 2)
        stack.add("pg-floor", partial(production_ceiling, "floor", stack.urls["pg-floor"]))
        stack.add(
            "sqlite-floor", lambda port: ceiling_command("floor", port, 1, workdir / "ceilings")
        )
        _start(list(stack.procs.values()))
        _static_ceiling(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def _start(procs: list[Process]) -> None:
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.wait_ready()


def _static_ceiling(stack: Stack) -> None:
    """Ceiling (a): the exact bytes of both 2-worker servers' lists, 2 workers;
    and the same bytes after one counter read a request (``checked``), also
    with the workers of the list server of each database and updates on a
    database of its own (``-rw``, for d')."""
    data = stack.workdir / "ceilings"
    index: dict[str, str] = {}
    for name in ("sqlite-list2w", "pg-list"):
        body = fetch(stack.procs[name].base + CONNS)
        (data / f"{name}.body").write_bytes(body)
        index[f"/{name}{CONNS}"] = f"{name}.body"
    (data / "static.json").write_text(json.dumps(index, indent=1))
    stack.add("static2", lambda port: ceiling_command("static", port, 2, data), 2)
    for name in ("sqlite-list2w", "pg-list"):
        served = ("--body", str(data / f"{name}.body"))
        checked = partial(
            production_ceiling, "checked", stack.urls[name], workers=2, options=served
        )
        stack.add(f"{name}-checked", checked, 2)
    for db, workers in (("sqlite", 1), ("pg", 2)):
        served = ("--body", str(data / f"{'sqlite-list2w' if db == 'sqlite' else 'pg-list'}.body"))
        checked = partial(
            production_ceiling, "checked", stack.urls[f"{db}-rw"], workers=workers, options=served
        )
        stack.add(f"{db}-rw-checked", checked, workers)
    started = ("static2", "sqlite-list2w-checked", "pg-list-checked")
    _start([stack.procs[name] for name in (*started, "sqlite-rw-checked", "pg-rw-checked")])
