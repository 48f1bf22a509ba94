"""Where the time goes on the list path: ``python -m bench.profile``.

Builds a database of ``--rows`` connections the way the benchmark does, then
calls the real WSGI application (``vpnaas.app.create_app``, every middleware
included) in process, without HTTP, for ``GET /v2.0/vpn/ipsec-site-connections``:

* *repeat*: the same list again and again (what the benchmark's list
  figures measure; a server that caches answers from its cache);
* *after a write*: each list follows an update of one connection (not
  timed), so any cache must rebuild the body: the cost of a list that has to
  read the rows;
* *create* (with ``--create``): connection creates, the write path.

For each it prints the wall time per request (no profiler), then the
cProfile time per request split by where it is spent (SQLite's C calls,
SQLAlchemy, vpnaas' repository, value kinds, rendering, policy, JSON, the
WSGI stack) and the top functions. cProfile slows Python-heavy code more
than C calls, so read the split as proportions and the wall times as truth.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import seed
from vpnaas.app import create_app
from vpnaas.settings import load

__all__ = ["main"]

CONNS = "/v2.0/vpn/ipsec-site-connections"

WSGI_STACK = ("/falcon/", "oslo_middleware", "/vpnaas/auth/", "oslo_context", "/vpnaas/context")
#: (bucket, test on "file:function") in order; the first match wins
BUCKETS: list[tuple[str, Callable[[str], bool]]] = [
    ("SQLite (C: execute, fetch, commit)", lambda k: "sqlite3." in k),
    ("JSON encode/decode", lambda k: "orjson" in k or "/json/" in k),
    ("SQLAlchemy", lambda k: "/sqlalchemy/" in k),
    ("vpnaas db (repo, engine)", lambda k: "/vpnaas/db/" in k),
    ("vpnaas spec (value kinds)", lambda k: "/vpnaas/spec/" in k),
    ("vpnaas api (controller, render, query, cache)", lambda k: "/vpnaas/api/" in k),
    (
        "policy (oslo.policy, vpnaas.policy)",
        lambda k: "oslo_policy" in k or "/vpnaas/policy/" in k,
    ),
    (
        "WSGI stack (falcon, oslo.middleware, auth, context)",
        lambda k: (
            any(
                s in k
                for s in ("/falcon/", "oslo_middleware", "/vpnaas/auth/", "oslo_context", "webob")
            )
            or "/vpnaas/context" in k
        ),
    ),
    ("vpnaas other (topology, rules)", lambda k: "/vpnaas/" in k),
    ("Python built-ins and stdlib", lambda k: True),
]


def _bucket(key: str) -> str:
    return next(name for name, test in BUCKETS if test(key))


def _key(func: tuple[str, int, str]) -> str:
    filename, _line, name = func
    return f"{filename}:{name}"


def split(stats: pstats.Stats, requests: int) -> list[tuple[str, float]]:
    """Milliseconds of own time per request in each bucket, largest first."""
    totals: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        totals[_bucket(_key(func))] += tottime
    return sorted(((b, t * 1000 / requests) for b, t in totals.items()), key=lambda x: -x[1])


def top(stats: pstats.Stats, requests: int, count: int) -> list[tuple[str, float, float, int]]:
    """The ``count`` functions with most own time: name, own ms, cumulative ms, calls."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for func, (_cc, nc, tottime, cumtime, _callers) in raw.items():
        filename, line, name = func
        short = filename.split("site-packages/")[-1].split("/src/")[-1]
        label = f"{short}:{line}({name})" if filename != "~" else name
        rows.append((label, tottime * 1000 / requests, cumtime * 1000 / requests, nc // requests))
    rows.sort(key=lambda r: -r[1])
    return rows[:count]


class Bench:
    def __init__(self, rows: int, workdir: Path) -> None:
        template = workdir / "template.sqlite"
        self.topo = seed.build_template(template)
        db = workdir / f"n{rows}.sqlite"
        seed.copy_db(template, db)
        self.ids = seed.add_connections(db, rows - 2)
        self.app = create_app(load([], database_url=seed.db_url(db)))
        self.client = seed.InProcessClient(self.app, seed.PROJECT)
        self.writes = 0

    def list(self) -> bytes:
        """One list; its body (not decoded: the client's work is not measured)."""
        code, body = self.client.raw("GET", CONNS)
        if code != 200:
            raise RuntimeError(f"list -> {code}: {body[:500]!r}")
        return body

    def create(self) -> None:
        code, body = self.client.raw("POST", CONNS, self.topo.create_body())
        if code != 201:
            raise RuntimeError(f"create -> {code}: {body[:500]!r}")

    def write(self) -> None:
        self.writes += 1
        obj_id = self.ids[self.writes % len(self.ids)]
        body = {"ipsec_site_connection": {"description": f"profile {self.writes}"}}
        self.client.ok("PUT", f"{CONNS}/{obj_id}", body)


def measure(bench: Bench, requests: int, mode: str) -> tuple[float, pstats.Stats]:
    """Median wall ms per request (unprofiled), then a profile of as many."""
    call: Callable[[], object] = bench.create if mode == "create" else bench.list
    times = []
    for _ in range(requests):
        if mode == "after a write":
            bench.write()
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    prof = cProfile.Profile()
    for _ in range(requests):
        if mode == "after a write":
            bench.write()
        prof.enable()
        call()
        prof.disable()
    return statistics.median(times) * 1000, pstats.Stats(prof)


def report(title: str, wall_ms: float, stats: pstats.Stats, requests: int) -> dict[str, Any]:
    total = sum(ms for _, ms in split(stats, requests))
    print(f"\n## {title}: {wall_ms:.2f} ms per request wall (median, no profiler)")
    print(f"profiled: {total:.2f} ms per request; own time by where it is spent:")
    for bucket, ms in split(stats, requests):
        print(f"  {ms:8.3f} ms  {100 * ms / total:5.1f}%  {bucket}")
    print("top functions (own ms, cumulative ms, calls per request):")
    for label, own, cum, calls in top(stats, requests, 15):
        print(f"  {own:8.3f} {cum:8.3f} {calls:7d}  {label}")
    return {
        "wall_ms": round(wall_ms, 3),
        "profiled_ms": round(total, 3),
        "split_ms": {b: round(ms, 3) for b, ms in split(stats, requests)},
        "top": [
            {"function": f, "own_ms": round(o, 3), "cum_ms": round(c, 3), "calls": n}
            for f, o, c, n in top(stats, requests, 15)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--rows", type=int, default=1000, help="connections (default 1,000)")
    parser.add_argument("--requests", type=int, default=50, help="lists per measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--create", action="store_true", help="also profile creates (the write path)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vpnaas-profile-") as tmp:
        bench = Bench(args.rows, Path(tmp))
        try:
            listed = len(json.loads(bench.list())["ipsec_site_connections"])
            print(f"# list of {listed:,} connections, in process (no HTTP)")
            results = {}
            modes = ["repeat", "after a write"] + (["create"] if args.create else [])
            for mode in modes:
                wall, stats = measure(bench, args.requests, mode)
                results[mode] = report(mode, wall, stats, args.requests)
        finally:
            bench.app.db.dispose()
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, **results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
