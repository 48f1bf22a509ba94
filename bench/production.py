"""Performance as production sees it (issue 16): ``python -m bench.production``.

See bench/README.md, "Production figures (issue 16)". Each figure is a
ratio of two rates measured seconds apart in the same repetition (which one
goes first alternates), medians over the repetitions:

a) ``list-2w``: the list of 1,000 on 2 workers / the static ceiling serving
   its exact bytes on 2 workers; ``list-2w-floor`` is its yardstick: the
   ``checked`` ceiling (the same bytes after one counter read) / the static
   ceiling, what one round trip per answer leaves on its own;
   ``list-2w-1t`` (PostgreSQL): the same list server with one request
   thread a worker, which answers each request on the thread that
   receives it, with no hand-off to a pool;
b) ``list-writes``: the list while a paced writer updates connections
   through the API 20 times a second / the same list with no writes;
c) ``uncached``: the list with ``--no-response-cache`` / the ``rows``
   ceiling of ``bench/production_ceilings.py``;
d) ``writes-reads``: the update rate while lists saturate the server / the
   update rate alone; ``writes-reads-floor`` is its yardstick: the same on
   the ``checked`` ceiling, whose update is one UPDATE and the counter's
   bump (same workers and request threads as the list server of d));
e) ``create``: the create rate / the create floor's.

Each for SQLite and PostgreSQL. Servers and databases: ``bench/production_setup.py``.
Beside the rates, the CPU time the measured server's processes used per
request (from /proc; not PostgreSQL's own processes), which a busy machine
moves less than the rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import load
from bench.front import _cpu_seconds
from bench.production_report import bounds, render
from bench.production_setup import CONNS, HEADERS, Stack, start_stack
from bench.servers import HOST, ROOT

__all__ = ["main"]

RESULTS = ROOT / "bench" / "results"
DBS = {"sqlite": "SQLite", "pg": "PostgreSQL"}
WRITES_PER_SECOND = 20.0
UPDATE = '{"ipsec_site_connection": {"description": "updated by bench"}}'
Run = Callable[[int], dict[str, Any]]
#: a figure's run for a database and a concurrency
Pick = Callable[[str, int], Run]


@dataclass
class Cell:
    """One figure at one concurrency: ``runs`` against ``bases`` (the ceiling or the quiet rate)."""

    key: str
    label: str
    db: str
    conns: int
    target: float
    measure: Run
    base: Run
    runs: list[dict[str, Any]] = field(default_factory=list)
    bases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        pairs = [
            r["rps"] / b["rps"] for r, b in zip(self.runs, self.bases, strict=True) if b["rps"]
        ]
        return statistics.median(pairs) if pairs else 0.0

    def median(self, runs: list[dict[str, Any]], key: str = "rps") -> float:
        return statistics.median(r[key] for r in runs) if runs else 0.0


class Driver:
    """The wrk runs and the paced writer, against the servers of a :class:`Stack`."""

    def __init__(self, stack: Stack, workdir: Path) -> None:
        self.stack = stack
        self.workdir = workdir
        self._scripts = 0
        self._lock = threading.Lock()

    def wrk(self, server: str, request: load.Request, conns: int, seconds: int) -> dict[str, Any]:
        with self._lock:  # a script file per concurrent wrk
            self._scripts += 1
            scripts = self.workdir / f"wrk-{self._scripts % 4}"
        scripts.mkdir(exist_ok=True)
        proc = self.stack.procs[server]
        cpu = _cpu_seconds(proc)
        result = load.run(
            proc.base, request, connections=conns, seconds=seconds, script_dir=scripts
        )
        used = _cpu_seconds(proc) - cpu  # with a writer or a second wrk: theirs too
        return {**result.to_json(), "cpu_ms": round(1000 * used / max(result.requests, 1), 3)}

    def lists(self, server: str, conns: int, target: str = CONNS) -> Run:
        return lambda s: self.wrk(server, load.Request("GET", target, None, HEADERS), conns, s)

    def updates(self, server: str, db: str, conns: int) -> Run:
        ids = self.stack.update_ids[db]
        request = load.Request("PUT", CONNS, UPDATE, HEADERS, ids)
        return lambda s: self.wrk(server, request, conns, s)

    def creates(self, server: str, db: str, conns: int) -> Run:
        body = json.dumps(self.stack.topo[db].create_body())
        request = load.Request("POST", CONNS, body, HEADERS)
        return lambda s: self.wrk(server, request, conns, s)

    def with_writer(self, run: Run, server: str, db: str) -> Run:
        """``run`` while a thread PUTs a connection 20 times a second."""

        def both(seconds: int) -> dict[str, Any]:
            port, ids = self.stack.procs[server].port, self.stack.update_ids[db]
            writer = load.PacedWriter(HOST, port, ids, WRITES_PER_SECOND, HEADERS)
            thread = threading.Thread(target=writer.run, args=(seconds + 1.0,))
            thread.start()
            try:
                result = run(seconds)
            finally:
                thread.join()
            return {**result, "writes_per_s": round(writer.rate, 2), "write_errors": writer.errors}

        return both

    def under_reads(self, run: Run, reads: Run) -> Run:
        """``run`` while ``reads`` saturate the server (started first, ending after)."""

        def both(seconds: int) -> dict[str, Any]:
            with ThreadPoolExecutor(1) as pool:
                lists = pool.submit(reads, seconds + 2)
                time.sleep(0.5)
                result = run(seconds)
                listed = lists.result()
            return {**result, "lists_per_s": listed["rps"]}

        return both


def cells(drv: Driver) -> list[Cell]:
    """Every figure for each database and concurrency (see the module's docstring)."""

    def two(db: str) -> str:
        return "sqlite-list2w" if db == "sqlite" else "pg-list"

    def quiet(db: str, c: int) -> Run:
        return drv.lists(f"{db}-list", c)

    def alone(db: str, c: int) -> Run:
        return drv.updates(f"{db}-list", db, c)

    figures: list[tuple[str, str, float, tuple[int, ...], Pick, Pick]] = [
        (
            "list-2w",
            "a) list of 1,000, 2 workers / static ceiling",
            0.7,
            (1, 8),
            lambda db, c: drv.lists(two(db), c),
            lambda db, c: drv.lists("static2", c, f"/{two(db)}{CONNS}"),
        ),
        (
            "list-2w-floor",
            "a') one counter read a request (checked ceiling) / static ceiling",
            0.0,
            (1, 8),
            lambda db, c: drv.lists(f"{two(db)}-checked", c, f"/{two(db)}{CONNS}"),
            lambda db, c: drv.lists("static2", c, f"/{two(db)}{CONNS}"),
        ),
        (
            "list-2w-1t",
            "a'') the list server with one request thread a worker / static ceiling",
            0.0,
            (1, 8),
            lambda db, c: drv.lists(f"{db}-list-1t", c),
            lambda db, c: drv.lists("static2", c, f"/{two(db)}{CONNS}"),
        ),
        (
            "list-writes",
            "b) list of 1,000 with 20 updates/s / quiet",
            0.8,
            (8,),
            lambda db, c: drv.with_writer(quiet(db, c), f"{db}-list", db),
            quiet,
        ),
        (
            "uncached",
            "c) uncached list / raw driver + orjson",
            0.5,
            (1, 8),
            lambda db, c: drv.lists(f"{db}-nocache", c),
            lambda db, c: drv.lists(f"{db}-rows", c),
        ),
        (
            "writes-reads",
            "d) updates while lists saturate / updates alone",
            0.8,
            (1,),
            lambda db, c: drv.under_reads(alone(db, c), quiet(db, 8)),
            alone,
        ),
        (
            "writes-reads-floor",
            "d') bare updates while bare lists saturate / bare updates alone (checked ceiling)",
            0.0,
            (1,),
            lambda db, c: drv.under_reads(
                drv.updates(f"{db}-rw-checked", db, c), drv.lists(f"{db}-rw-checked", 8)
            ),
            lambda db, c: drv.updates(f"{db}-rw-checked", db, c),
        ),
        (
            "create",
            "e) create / create floor",
            0.75,
            (1, 8),
            lambda db, c: drv.creates(f"{db}-write", db, c),
            lambda db, c: drv.creates(f"{db}-floor", db, c),
        ),
    ]
    return [
        Cell(
            key,
            f"{label}, {name}",
            db,
            c,
            0.0 if (key, db) == ("list-2w", "sqlite") else target,  # the is PostgreSQL's
            measure(db, c),
            base(db, c),
        )
        for key, label, target, conns, measure, base in figures
        for db, name in DBS.items()
        for c in conns
        if (key, db) != ("list-2w-1t", "sqlite")  # one thread is SQLite's default
    ]


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def _log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


MIN_REQUESTS = 20
MAX_SECONDS = 10


def _seconds(seconds: int, conns: int, warm: list[dict[str, Any]]) -> int:
    """Long enough for ``MIN_REQUESTS`` at the slower warm-up rate (wrk counts finished ones)."""
    rate = min((w["rps"] for w in warm), default=0.0)
    if not rate:
        return MAX_SECONDS if warm else seconds
    return max(seconds, min(MAX_SECONDS, math.ceil(max(MIN_REQUESTS, 3 * conns) / rate)))


def measure(todo: list[Cell], reps: int, seconds: int, warmup: int) -> None:
    durations = {id(cell): seconds for cell in todo}
    if warmup:
        _log(f"warm-up: {warmup}s each")
        for cell in todo:
            warm = [cell.measure(warmup), cell.base(warmup)]
            durations[id(cell)] = _seconds(seconds, cell.conns, warm)
    for rep in range(reps):
        _log(f"repetition {rep + 1}/{reps}")
        for cell in todo:
            took = durations[id(cell)]
            if rep % 2:  # alternate which goes first, so that a trend in the load cancels
                cell.bases.append(cell.base(took))
                cell.runs.append(cell.measure(took))
            else:
                cell.runs.append(cell.measure(took))
                cell.bases.append(cell.base(took))
            run, base = cell.runs[-1], cell.bases[-1]
            extra = {k: v for k, v in run.items() if k in ("writes_per_s", "lists_per_s")}
            _log(
                f"  {cell.key:<12} {cell.db:<6} c={cell.conns}: {run['rps']:>8.1f}/s"
                f"  base {base['rps']:>8.1f}/s  ratio {run['rps'] / max(base['rps'], 1e-9):.3f}"
                f"  ({took}s) {extra or ''}{' ERRORS' if run['status_errors'] else ''}"
            )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    keys = (
        "list-2w",
        "list-2w-floor",
        "list-2w-1t",
        "list-writes",
        "uncached",
        "writes-reads",
        "writes-reads-floor",
        "create",
    )
    parser = argparse.ArgumentParser(prog="python -m bench.production", description=__doc__)
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per run (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up seconds (default 1)")
    parser.add_argument("--figures", help=f"comma-separated subset of: {', '.join(keys)}")
    parser.add_argument("--db", choices=["sqlite", "pg"], help="one database only")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    args = parser.parse_args(argv)
    args.keys = args.figures.split(",") if args.figures else list(keys)
    if set(args.keys) - set(keys):
        parser.error(f"unknown figures: {', '.join(sorted(set(args.keys) - set(keys)))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    load.ensure_wrk()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vpnaas-production-"))
    workdir.mkdir(parents=True, exist_ok=True)
    code, load_before, started = _commit(), os.getloadavg(), time.time()
    _log(f"work directory {workdir}")
    try:
        stack = start_stack(workdir.resolve())  # stops what it started if it fails
        try:
            drv = Driver(stack, workdir)
            todo = [c for c in cells(drv) if c.key in args.keys and args.db in (None, c.db)]
            measure(todo, args.reps, args.seconds, args.warmup)
        finally:
            stack.stop()
    finally:
        if args.workdir is None:  # ours: the databases, logs and PostgreSQL's cluster
            shutil.rmtree(workdir, ignore_errors=True)
    text = "\n".join([render(todo), "", *bounds(todo, WRITES_PER_SECOND)])
    print("\n" + text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"production-{stamp}.json"
    doc = {
        "when": stamp,
        "commit": code,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "elapsed_s": round(time.time() - started, 1),
        "options": {"reps": args.reps, "seconds": args.seconds, "warmup": args.warmup},
        "figures": [
            {
                "key": c.key,
                "db": c.db,
                "conns": c.conns,
                "label": c.label,
                "ratio": round(c.ratio, 4),
                "runs": c.runs,
                "bases": c.bases,
            }
            for c in todo
        ],
        "table": text,
    }
    path.write_text(json.dumps(doc, indent=1))
    _log(
        f"wrote {path.relative_to(ROOT)} ({doc['elapsed_s']}s;"
        f" load average {load_before} -> {doc['loadavg_after']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
