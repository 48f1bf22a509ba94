"""The benchmark run: seed, start the servers and the ceilings, measure, report.

See ``bench/README.md``. Every figure is measured against its ceiling in the
same repetition, one right after the other, so that a busy machine slows
both; the table shows medians over the repetitions and their ratio. The
run's pieces, in the order :func:`main` calls them: the figures and options
(:mod:`bench.scenarios`), seeding and starting the servers
(:mod:`bench.stage`), the runs (:mod:`bench.measure`) and the table and
result file (:mod:`bench.report`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import load, report
from bench.measure import Cell, measure, rss
from bench.scenarios import Figure, Options, figures, log
from bench.servers import ROOT
from bench.stage import Setup, setup

__all__ = ["main"]


def main(argv: list[str] | None = None, *, clock: Callable[[], float] = time.time) -> int:
    opts = _parse(argv)
    load.ensure_wrk()
    figs = [f for f in figures(opts.big) if f.key in opts.figures]
    started = clock()
    code = _git()  # before the run: the lead may commit while it goes on
    log(f"work directory {opts.workdir}; {opts.reps} x {opts.seconds:g}s per figure")
    load_before = os.getloadavg()
    st, cells, memory = _run(opts, figs)
    rows, data = report.table(cells, memory, st.body_bytes)
    text = report.render(rows)
    print()
    print(text)
    result = _result(argv, opts, code, load_before, st)
    result.update(figures=data, rss=memory, table=text, elapsed_s=round(clock() - started, 1))
    path = report.save(result)
    log(f"wrote {path.relative_to(ROOT)} ({result['elapsed_s']}s)")
    if not opts.keep:
        _remove(opts.workdir)
    return 0


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


def _run(opts: Options, figs: list[Figure]) -> tuple[Setup, list[Cell], dict[str, Any] | None]:
    """Set the stage, measure, read the memory; every server stopped after."""
    st: Setup | None = None
    try:
        st = setup(opts, figs)
        cells = measure(opts, figs, st)
        memory = rss(st)
    finally:
        if st is not None:
            for proc in st.all():
                proc.stop()
    return st, cells, memory


def _result(
    argv: list[str] | None,
    opts: Options,
    code: dict[str, str],
    load_before: tuple[float, float, float],
    st: Setup,
) -> dict[str, Any]:
    """The head of the JSON result: when, what ran, on what, with which options."""
    return {
        "when": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
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
    }


def _remove(workdir: Path) -> None:
    for item in sorted(workdir.rglob("*"), reverse=True):
        item.unlink() if item.is_file() else item.rmdir()
    workdir.rmdir()
