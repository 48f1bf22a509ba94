"""The benchmark run: seed, start the servers and the ceilings, measure, report.

See ``bench/README.md``. Every figure is measured against its ceiling in the
same repetition, one right after the other, so that a busy machine slows
both; the table shows medians over the repetitions and their ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import load, seed
from bench.servers import ROOT, Process, ceiling_command, free_port, memory_of, vpnaas_command

__all__ = ["main"]

CONNS = "/v2.0/vpn/ipsec-site-connections"
HEADERS = (("X-Project-Id", seed.PROJECT),)
RESULTS = ROOT / "bench" / "results"
LIST_SIZES = (10, 100, 1000, 10000)
#: the server of the create floor (``bench.ceilings floor``, not vpnaas)
FLOOR = "floor"
RSS_LIMIT_MIB = 150.0


@dataclass(frozen=True)
class Figure:
    """One measured figure: a request to a vpnaas server and its ceiling."""

    key: str
    label: str
    server: str  # a key of the vpnaas servers
    ceiling: str  # "static", "static2" (two workers) or "insert"
    method: str = "GET"
    target: str = CONNS
    body: str | None = None
    ids: str | None = None  # "update" or "delete": the request path takes ids in turn
    conns: tuple[int, ...] = (1, 8)


@dataclass
class Options:
    reps: int
    seconds: int
    warmup: int
    big: int
    delete_pool: int
    figures: list[str]
    workdir: Path
    keep: bool


@dataclass
class Cell:
    """The runs of one figure at one concurrency."""

    figure: Figure
    conns: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    ceiling_runs: list[dict[str, Any]] = field(default_factory=list)

    def median(self, which: str = "runs") -> float:
        runs: list[dict[str, Any]] = getattr(self, which)
        return statistics.median(r["rps"] for r in runs) if runs else 0.0

    @property
    def ratio(self) -> float:
        """The median over repetitions of (run / the ceiling run next to it).

        Each run and its ceiling run are seconds apart, so a burst of load
        from elsewhere slows both; the median drops the pairs it split.
        """
        pairs = [
            r["rps"] / c["rps"]
            for r, c in zip(self.runs, self.ceiling_runs, strict=True)
            if c["rps"]
        ]
        return statistics.median(pairs) if pairs else 0.0

    @property
    def errors(self) -> int:
        return sum(r["status_errors"] + r["socket_errors"] for r in self.runs)


def figures(big: int) -> list[Figure]:
    out = [Figure(f"list-{n}", f"list, N={n:,}", f"n{n}", "static") for n in LIST_SIZES]
    out += [
        Figure(
            "fields",
            "list fields=id,name, N=1,000",
            "n1000",
            "static",
            target=CONNS + "?fields=id&fields=name",
        ),
        Figure(
            "limit-1000",
            "list limit=100, N=1,000",
            "n1000",
            "static",
            target=CONNS + "?limit=100",
        ),
        Figure(
            "limit-big",
            f"list limit=100, N={big:,}",
            "big",
            "static",
            target=CONNS + "?limit=100",
        ),
        Figure("show", "show, N=1,000", "n1000", "static", target=CONNS + "/{show_id}"),
        Figure("create", "create", "write", "insert", method="POST", body="{create_body}"),
        Figure(
            "create-floor",
            "create: its SQL alone (floor)",
            FLOOR,
            "insert",
            method="POST",
            body="{create_body}",
        ),
        Figure(
            "update",
            "update",
            "write",
            "insert",
            method="PUT",
            ids="update",
            body='{"ipsec_site_connection": {"description": "updated by bench"}}',
        ),
        Figure("delete", "delete", "write", "insert", method="DELETE", ids="delete"),
        Figure("list-1000-2w", "list, N=1,000, 2 workers", "n1000x2", "static2"),
    ]
    return out


# --- set-up --------------------------------------------------------------------


@dataclass
class Setup:
    topo: seed.Topology
    servers: dict[str, Process]
    ceilings: dict[str, Process]
    ids: dict[str, Path]
    show_id: str
    create_body: str
    seed_seconds: dict[str, float]
    body_bytes: dict[str, int] = field(default_factory=dict)

    def all(self) -> list[Process]:
        return [*self.servers.values(), *self.ceilings.values()]


def _log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


def _sizes_needed(figs: list[Figure]) -> set[str]:
    return {f.server for f in figs}


def _seed_all(
    opts: Options, needed: set[str]
) -> tuple[seed.Topology, dict[str, Path], dict[str, Path], dict[str, float]]:
    work = opts.workdir
    template = work / "template.sqlite"
    topo = seed.build_template(template)
    dbs: dict[str, Path] = {}
    took: dict[str, float] = {}
    ids: dict[str, Path] = {}
    plan = {f"n{n}": n for n in LIST_SIZES} | {"big": opts.big, "write": 1000}
    if "n1000x2" in needed:
        needed = needed | {"n1000"}
    if FLOOR in needed:
        needed = needed | {"write"}
    for name, count in plan.items():
        if name not in needed:
            continue
        path = work / f"{name}.sqlite"
        seed.copy_db(template, path)
        started = time.perf_counter()
        made = seed.add_connections(path, count - 2)
        if name == "write":
            (work / "update.ids").write_text("\n".join(made) + "\n")
            ids["update"] = work / "update.ids"
            pool = seed.add_connections(path, opts.delete_pool, start=count, prefix="del-")
            (work / "delete.ids").write_text("\n".join(pool) + "\n")
            ids["delete"] = work / "delete.ids"
        took[name] = time.perf_counter() - started
        dbs[name] = path
        _log(f"seeded {name}: {count:,} connections in {took[name]:.1f}s")
    if "n1000x2" in needed:
        dbs["n1000x2"] = work / "n1000x2.sqlite"
        seed.copy_db(dbs["n1000"], dbs["n1000x2"])
    if FLOOR in needed:  # the floor app finds it in the ceilings' data directory
        (work / "ceilings").mkdir(exist_ok=True)
        seed.copy_db(dbs["write"], work / "ceilings" / "floor.sqlite")
    return topo, dbs, ids, took


def _fetch(url: str) -> bytes:
    req = urllib.request.Request(url, headers=dict(HEADERS))
    with urllib.request.urlopen(req, timeout=120) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url} -> {resp.status}")
        body: bytes = resp.read()
        return body


def _target(fig: Figure, setup: Setup) -> str:
    return fig.target.replace("{show_id}", setup.show_id)


def _start(procs: list[Process]) -> None:
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.wait_ready()


def setup(opts: Options, figs: list[Figure]) -> Setup:
    needed = _sizes_needed(figs)
    topo, dbs, ids, took = _seed_all(opts, needed)
    servers = {
        name: Process(
            name,
            vpnaas_command(db, port := free_port(), 2 if name == "n1000x2" else 1),
            port,
            opts.workdir / f"{name}.log",
            workers=2 if name == "n1000x2" else 1,
        )
        for name, db in dbs.items()
        if name in needed or (name == "write" and FLOOR in needed)
    }
    create_body = json.dumps(topo.create_body())
    st = Setup(topo, servers, {}, ids, topo.template_connections[0], create_body, took)
    _start(list(servers.values()))
    _log(f"started vpnaas: {', '.join(f'{n} (pid {p.pid})' for n, p in servers.items())}")
    # ceiling (a): the exact bytes vpnaas answers, fetched once
    data = opts.workdir / "ceilings"
    data.mkdir(exist_ok=True)
    index: dict[str, str] = {}
    for fig in figs:
        if fig.ceiling.startswith("static"):
            target = _target(fig, st)
            body = _fetch(servers[fig.server].base + target)
            name = f"{fig.key}.body"
            (data / name).write_bytes(body)
            index[f"/{fig.key}{target}"] = name
            st.body_bytes[fig.key] = len(body)
    (data / "static.json").write_text(json.dumps(index, indent=1))
    if any(f.ceiling == "insert" for f in figs):
        # what vpnaas answers for a create (one request, in the write database)
        req = urllib.request.Request(
            servers["write"].base + CONNS,
            data=create_body.encode(),
            method="POST",
            headers={**dict(HEADERS), "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            (data / "create.json").write_bytes(resp.read())
        (data / "insert.sqlite").unlink(missing_ok=True)
    kinds = {f.ceiling for f in figs}
    for kind in sorted(kinds):
        workers = 2 if kind == "static2" else 1
        app = "insert" if kind == "insert" else "static"
        port = free_port()
        st.ceilings[kind] = Process(
            f"ceiling-{kind}",
            ceiling_command(app, port, workers, data),
            port,
            opts.workdir / f"ceiling-{kind}.log",
            workers=workers,
        )
    if FLOOR in needed:
        port = free_port()
        st.servers[FLOOR] = Process(
            FLOOR, ceiling_command(FLOOR, port, 1, data), port, opts.workdir / "floor.log"
        )
    _start(list(st.ceilings.values()) + ([st.servers[FLOOR]] if FLOOR in needed else []))
    _log(f"started ceilings: {', '.join(f'{n} (pid {p.pid})' for n, p in st.ceilings.items())}")
    return st


# --- measuring -------------------------------------------------------------------


class Driver:
    """Builds each wrk request and keeps the delete pool's position."""

    def __init__(self, setup: Setup, opts: Options) -> None:
        self.setup = setup
        self.opts = opts
        self.delete_next = 1
        self.delete_pool = opts.delete_pool

    def request(self, fig: Figure, *, ceiling: bool) -> load.Request:
        target = _target(fig, self.setup)
        if ceiling and fig.ceiling.startswith("static"):
            target = f"/{fig.key}{target}"
        body = fig.body
        if body == "{create_body}":
            body = self.setup.create_body
        ids = self.setup.ids.get(fig.ids) if fig.ids else None
        first = self.delete_next if fig.ids == "delete" else 1
        return load.Request(fig.method, target, body, HEADERS, ids, first)

    def run(self, fig: Figure, conns: int, seconds: int, *, ceiling: bool) -> dict[str, Any]:
        proc = self.setup.ceilings[fig.ceiling] if ceiling else self.setup.servers[fig.server]
        result = load.run(
            proc.base,
            self.request(fig, ceiling=ceiling),
            connections=conns,
            seconds=seconds,
            script_dir=self.opts.workdir,
        )
        if fig.ids == "delete" and not ceiling:
            self.delete_next += result.requests + conns
            if self.delete_next > self.delete_pool:
                _log("warning: the delete pool ran out; later deletes answer 404")
        return result.to_json()


MIN_REQUESTS = 20
MAX_SECONDS = 20


def _duration(opts: Options, cell: Cell, estimates: dict[tuple[str, int], float]) -> int:
    """Long enough for ``MIN_REQUESTS`` (wrk counts only finished requests).

    A slow figure (a 10,000-row list answered in a second, eight at a time)
    would otherwise finish next to nothing in a few seconds; its runs are
    stretched up to ``MAX_SECONDS``, from the warm-up's rate.
    """
    rate = estimates.get((cell.figure.key, cell.conns)) or estimates.get((cell.figure.key, 1))
    if not rate:
        return opts.seconds if not estimates else MAX_SECONDS
    wanted = max(MIN_REQUESTS, 3 * cell.conns) / rate
    return max(opts.seconds, min(MAX_SECONDS, math.ceil(wanted)))


def measure(opts: Options, figs: list[Figure], st: Setup) -> list[Cell]:
    drv = Driver(st, opts)
    cells = [Cell(fig, c) for fig in figs for c in fig.conns]
    estimates: dict[tuple[str, int], float] = {}
    if opts.warmup > 0:
        _log(f"warm-up: {opts.warmup}s per figure, concurrency and server")
        for cell in cells:
            warm = drv.run(cell.figure, cell.conns, opts.warmup, ceiling=False)
            estimates[(cell.figure.key, cell.conns)] = warm["rps"]
            drv.run(cell.figure, cell.conns, opts.warmup, ceiling=True)
    durations = {id(cell): _duration(opts, cell, estimates) for cell in cells}
    for rep in range(opts.reps):
        _log(f"repetition {rep + 1}/{opts.reps}")
        for cell in cells:
            seconds = durations[id(cell)]
            # alternate which goes first, so that a trend in the machine's load cancels
            if rep % 2:
                ceiling = drv.run(cell.figure, cell.conns, opts.seconds, ceiling=True)
                cell.runs.append(drv.run(cell.figure, cell.conns, seconds, ceiling=False))
            else:
                cell.runs.append(drv.run(cell.figure, cell.conns, seconds, ceiling=False))
                ceiling = drv.run(cell.figure, cell.conns, opts.seconds, ceiling=True)
            cell.ceiling_runs.append(ceiling)
            run, ceil = cell.runs[-1], cell.ceiling_runs[-1]
            flag = "" if not (run["status_errors"] or run["socket_errors"]) else " ERRORS"
            _log(
                f"  {cell.figure.key:<13} c={cell.conns}: {run['rps']:>9.1f} req/s"
                f"  ceiling {ceil['rps']:>9.1f}  ratio {run['rps'] / max(ceil['rps'], 1e-9):.3f}"
                f"  ({seconds}s){flag}"
            )
    return cells


def rss(st: Setup) -> dict[str, Any] | None:
    proc = st.servers.get("big")
    if proc is None:
        return None
    workers = proc.worker_pids()
    per = {str(pid): memory_of(pid) for pid in workers}
    main = memory_of(proc.pid)
    return {
        "main": main,
        "workers": per,
        "worker_rss_mib": max((m["VmRSS"] for m in per.values()), default=0.0),
        "worker_peak_mib": max((m["VmHWM"] for m in per.values()), default=0.0),
        "total_rss_mib": main["VmRSS"] + sum(m["VmRSS"] for m in per.values()),
    }


# --- targets and the table --------------------------------------------------------


@dataclass
class Row:
    figure: str
    body: str
    conns: str
    rps: str
    ceiling: str
    ratio: str
    target: str
    result: str


def _find(cells: list[Cell], key: str, conns: int) -> Cell | None:
    return next((c for c in cells if c.figure.key == key and c.conns == conns), None)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "FAIL")


def _target_for(cell: Cell, cells: list[Cell]) -> tuple[str, bool | None]:
    key, conns = cell.figure.key, cell.conns
    if key in ("list-10", "list-1000", "create"):
        return "ratio >= 0.50", cell.ratio >= 0.5
    relative: dict[str, tuple[str, float, str]] = {
        "fields": ("list-1000", 1.05, "> list N=1,000"),
        "limit-big": ("limit-1000", 0.5, ">= 0.5x limit N=1,000"),
        "list-1000-2w": ("list-1000", 1.6, ">= 1.6x 1 worker"),
    }
    if key not in relative or (key == "list-1000-2w" and conns == 1):
        return "", None
    other_key, factor, text = relative[key]
    other = _find(cells, other_key, conns)
    if other is None or not other.median():
        return f"{text} (not measured)", None
    times = cell.median() / other.median()
    context = ""
    if key == "list-1000-2w" and other.median("ceiling_runs"):
        scale = cell.median("ceiling_runs") / other.median("ceiling_runs")
        context = f" (ceiling {scale:.2f}x)"
    return f"{text}: {times:.2f}x{context}", times >= factor


def table(
    cells: list[Cell], memory: dict[str, Any] | None, body_bytes: dict[str, int]
) -> tuple[list[Row], list[dict[str, Any]]]:
    rows: list[Row] = []
    out: list[dict[str, Any]] = []
    for cell in cells:
        text, ok = _target_for(cell, cells)
        err = f" ({cell.errors} errors)" if cell.errors else ""
        rows.append(
            Row(
                cell.figure.label,
                f"{body_bytes[cell.figure.key] / 1024:,.1f} KiB"
                if cell.figure.key in body_bytes
                else "-",
                str(cell.conns),
                f"{cell.median():,.1f}{err}",
                f"{cell.median('ceiling_runs'):,.1f}",
                f"{cell.ratio:.3f}",
                text,
                _verdict(ok) if text else "",
            )
        )
        out.append(
            {
                "figure": cell.figure.key,
                "label": cell.figure.label,
                "concurrency": cell.conns,
                "ceiling": cell.figure.ceiling,
                "median_rps": round(cell.median(), 2),
                "median_ceiling_rps": round(cell.median("ceiling_runs"), 2),
                "ratio": round(cell.ratio, 4),
                "ratio_of_medians": round(
                    cell.median() / cell.median("ceiling_runs")
                    if cell.median("ceiling_runs")
                    else 0.0,
                    4,
                ),
                "paired_ratios": [
                    round(r["rps"] / c["rps"], 4) if c["rps"] else None
                    for r, c in zip(cell.runs, cell.ceiling_runs, strict=True)
                ],
                "target": text,
                "pass": ok,
                "runs": cell.runs,
                "ceiling_runs": cell.ceiling_runs,
            }
        )
    if memory is not None:
        worker = memory["worker_rss_mib"]
        rows.append(
            Row(
                "server RSS after limit=100 runs, big N",
                "-",
                "-",
                f"worker {worker:.0f} MiB (peak {memory['worker_peak_mib']:.0f})",
                f"all {memory['total_rss_mib']:.0f} MiB",
                "-",
                f"worker < {RSS_LIMIT_MIB:.0f} MiB",
                _verdict(worker < RSS_LIMIT_MIB),
            )
        )
    return rows, out


def render(rows: list[Row]) -> str:
    head = Row("figure", "body", "c", "req/s", "ceiling req/s", "ratio", "target", "result")
    table = [dataclasses.astuple(r) for r in [head, *rows]]
    widths = [max(len(v) for v in col) for col in zip(*table, strict=True)]
    lines = []
    for i, vals in enumerate(table):
        lines.append(
            "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)) + " |"
        )
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# --- the command ------------------------------------------------------------------


def _git() -> dict[str, str]:
    def out(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    spec = importlib.util.find_spec("vpnaas")
    origin = str(Path(spec.origin).parent) if spec is not None and spec.origin else "?"
    return {
        "commit": out("rev-parse", "HEAD"),
        "dirty_src": out("status", "--short", "src"),
        # the code the servers ran (PYTHONPATH may point at another checkout)
        "vpnaas_package": origin,
    }


def _parse(argv: list[str] | None) -> Options:
    keys = [f.key for f in figures(100_000)]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark vpnaas serve against its ceilings (see bench/README.md).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one short repetition, 20,000 rows for the big database",
    )
    parser.add_argument("--reps", type=int, help="repetitions (default 3; quick 1)")
    parser.add_argument("--seconds", type=int, help="seconds per run (default 3; quick 1)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds, 0 for none (default 1)")
    parser.add_argument("--big", type=int, help="rows of the big database (default 100,000)")
    parser.add_argument("--figures", help=f"comma-separated subset of: {', '.join(keys)}")
    parser.add_argument("--workdir", type=Path, help="where databases and logs go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    chosen = args.figures.split(",") if args.figures else keys
    unknown = set(chosen) - set(keys)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    reps = args.reps or (1 if args.quick else 3)
    seconds = max(1, args.seconds or (1 if args.quick else 3))
    warmup = 1 if args.warmup is None else max(0, args.warmup)
    big = args.big or (20_000 if args.quick else 100_000)
    # deletes: generous for the slowest plausible run of the fastest server
    per_second = 3000
    pool = int(per_second * (reps * seconds + warmup) * 2) + 1000
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vpnaas-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return Options(
        reps,
        seconds,
        warmup,
        big,
        pool,
        chosen,
        workdir.resolve(),
        args.keep or args.workdir is not None,
    )


def main(argv: list[str] | None = None, *, clock: Callable[[], float] = time.time) -> int:
    opts = _parse(argv)
    load.ensure_wrk()
    figs = [f for f in figures(opts.big) if f.key in opts.figures]
    started = clock()
    code = _git()  # before the run: the lead may commit while it goes on
    _log(f"work directory {opts.workdir}; {opts.reps} x {opts.seconds:g}s per figure")
    load_before = os.getloadavg()
    st: Setup | None = None
    try:
        st = setup(opts, figs)
        cells = measure(opts, figs, st)
        memory = rss(st)
    finally:
        if st is not None:
            for proc in st.all():
                proc.stop()
    rows, data = table(cells, memory, st.body_bytes)
    text = render(rows)
    print()
    print(text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    result = {
        "when": stamp,
        "command": "python -m bench " + " ".join(argv or []),
        "git": code,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "options": {
            "reps": opts.reps,
            "seconds": opts.seconds,
            "warmup": opts.warmup,
            "big": opts.big,
            "delete_pool": opts.delete_pool,
        },
        "seed_seconds": st.seed_seconds,
        "body_bytes": st.body_bytes,
        "figures": data,
        "rss": memory,
        "table": text,
        "elapsed_s": round(clock() - started, 1),
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=1))
    _log(f"wrote {path.relative_to(ROOT)} ({result['elapsed_s']}s)")
    if not opts.keep:
        for item in sorted(opts.workdir.rglob("*"), reverse=True):
            item.unlink() if item.is_file() else item.rmdir()
        opts.workdir.rmdir()
    return 0
