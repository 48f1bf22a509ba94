"""Measuring: every figure and its ceiling, run by run, side by side.

Each run of a figure is followed (or, every other repetition, preceded) by
a run of its ceiling, so that load from elsewhere on the machine slows both
and the paired ratio keeps what vpnaas itself costs (``bench/README.md``).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench import load
from bench.scenarios import HEADERS, Figure, Options, log, target_of
from bench.servers import memory_of
from bench.stage import Setup

__all__ = ["Cell", "measure", "rss"]

MIN_REQUESTS = 20
MAX_SECONDS = 20


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


class Driver:
    """Builds each wrk request and keeps the delete pool's position."""

    def __init__(self, setup: Setup, opts: Options) -> None:
        self.setup = setup
        self.opts = opts
        self.delete_next = 1
        self.delete_pool = opts.delete_pool

    def request(self, fig: Figure, *, ceiling: bool) -> load.Request:
        target = target_of(fig, self.setup.show_id)
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
                log("warning: the delete pool ran out; later deletes answer 404")
        return result.to_json()


def measure(opts: Options, figs: list[Figure], st: Setup) -> list[Cell]:
    """Warm up, then ``opts.reps`` repetitions of every cell and its ceiling."""
    drv = Driver(st, opts)
    cells = [Cell(fig, c) for fig in figs for c in fig.conns]
    estimates = _warm_up(opts, drv, cells)
    durations = {id(cell): _duration(opts, cell, estimates) for cell in cells}
    for rep in range(opts.reps):
        log(f"repetition {rep + 1}/{opts.reps}")
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
            _log_pair(cell, seconds)
    return cells


def _warm_up(opts: Options, drv: Driver, cells: list[Cell]) -> dict[tuple[str, int], float]:
    """Run every cell and its ceiling once, briefly; vpnaas's rate per cell."""
    estimates: dict[tuple[str, int], float] = {}
    if opts.warmup > 0:
        log(f"warm-up: {opts.warmup}s per figure, concurrency and server")
        for cell in cells:
            warm = drv.run(cell.figure, cell.conns, opts.warmup, ceiling=False)
            estimates[(cell.figure.key, cell.conns)] = warm["rps"]
            drv.run(cell.figure, cell.conns, opts.warmup, ceiling=True)
    return estimates


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


def _log_pair(cell: Cell, seconds: int) -> None:
    run, ceil = cell.runs[-1], cell.ceiling_runs[-1]
    flag = "" if not (run["status_errors"] or run["socket_errors"]) else " ERRORS"
    log(
        f"  {cell.figure.key:<13} c={cell.conns}: {run['rps']:>9.1f} req/s"
        f"  ceiling {ceil['rps']:>9.1f}  ratio {run['rps'] / max(ceil['rps'], 1e-9):.3f}"
        f"  ({seconds}s){flag}"
    )


def rss(st: Setup) -> dict[str, Any] | None:
    """Memory of the big database's server (its workers' RSS and peak)."""
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
