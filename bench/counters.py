"""The counter read of a cached answer, in process: ``python -m bench.counters``.

Every cached list or show first reads the write counters
(:mod:`vpnaas.db.counters`). This times that read alone, the way a worker's
request threads make it, for each way of making it, alternating the ways
within one run so that they share the machine's load:

* ``per-request IN``: the statement before the shared reads, the counters of
  the list's read set (``WHERE resource IN (...)``), one read per request;
* ``per-request all``: every counter in one statement, one read per request;
* ``shared, pooled``: every counter, one read shared by the threads waiting
  for it (:class:`vpnaas.db.counters.Coalesced`), each read on a connection
  taken from the pool;
* ``shared, kept``: the same on the connection the shared reads keep
  (:class:`vpnaas.db.counters.Counters`, what vpnaas does on a server).

``--threads`` threads (a worker's request threads) each ask for the counters
of the IPsec site connections' read set in a loop for ``--seconds``; the
figures are reads served a second and the process's CPU time per read
served (PostgreSQL's own CPU not counted). PostgreSQL is a private server
of ``scripts/db-server`` on a free loopback port, stopped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import databases

from vpnaas.db import migrate
from vpnaas.db.counters import Coalesced, Counters
from vpnaas.db.engine import Database
from vpnaas.db.revisions import bump, revisions_of, revisions_query
from vpnaas.db.tables import schema

__all__ = ["main"]

#: the read set of the IPsec site connections' list
MEMBERS = ("endpoint_group", "ikepolicy", "ipsec_site_connection", "ipsecpolicy", "vpnservice")
#: counters the database holds (the topology's and the VPN resources')
WRITTEN = (*MEMBERS, "network", "subnet", "router", "port", "router_interface")

Read = Callable[[], object]


def ways(db: Database) -> dict[str, Read]:
    sql, wanted = revisions_query(schema(), db.paramstyle, MEMBERS)
    alone = Counters(db, schema(), coalesce=False)
    pooled = Coalesced(lambda: db.peek(alone.sql, ()))
    shared = Counters(db, schema(), coalesce=True)
    return {
        "per-request IN": lambda: revisions_of(wanted, db.peek(sql, wanted)),
        "per-request all": lambda: alone.of(MEMBERS),
        "shared, pooled": pooled,
        "shared, kept": lambda: shared.of(MEMBERS),
    }


def run(read: Read, threads: int, seconds: float) -> tuple[float, float]:
    """Reads a second and CPU milliseconds per read over ``seconds``."""
    done = [0] * threads
    stop = threading.Event()

    def loop(slot: int) -> None:
        while not stop.is_set():
            read()
            done[slot] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    cpu, wall = time.process_time(), time.monotonic()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    total = max(sum(done), 1)
    return total / wall, cpu * 1000 / total


@contextmanager
def database(kind: str) -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="vpnaas-bench-counters-") as tmp:
        if kind == "sqlite":
            db = Database(f"sqlite:///{tmp}/vpnaas.sqlite")
            yield from _ready(db)
            return
        where = Path(tmp) / "pg"
        where.mkdir()
        where.chmod(0o711)  # the server runs as its own OS user
        Path(tmp).chmod(0o711)
        with databases.running_server("postgresql", where) as server:
            url = databases.create_database(server.url)
            yield from _ready(Database(url))


def _ready(db: Database) -> Iterator[Database]:
    try:
        migrate.upgrade(db.engine)
        with db.write() as conn:
            bump(conn, schema(), WRITTEN)
        yield db
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.counters", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "pg"], default="pg")
    parser.add_argument("--threads", default="1,5", help="comma-separated (default 1,5)")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    kind = "postgresql" if args.db == "pg" else "sqlite"
    with database(kind) as db:
        candidates = ways(db)
        for read in candidates.values():  # connect, prepare, warm up
            run(read, 1, 0.2)
        for threads in (int(t) for t in args.threads.split(",")):
            rates: dict[str, list[float]] = {name: [] for name in candidates}
            cpus: dict[str, list[float]] = {name: [] for name in candidates}
            for rep in range(args.reps):
                names = list(candidates) if rep % 2 == 0 else list(reversed(candidates))
                for name in names:
                    rate, cpu = run(candidates[name], threads, args.seconds)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
            base = statistics.median(rates["per-request IN"])
            print(f"{kind}, {threads} thread(s), medians of {args.reps}:")
            for name in candidates:
                rate = statistics.median(rates[name])
                cpu = statistics.median(cpus[name])
                print(
                    f"  {name:16} {rate:9.0f} reads/s ({rate / base:4.2f}) {cpu:7.4f} ms CPU/read"
                )


if __name__ == "__main__":
    main()
