"""Where a production worker's time goes: ``python -m bench.production_profile``.

Starts the servers of ``python -m bench.production`` and, for each scenario
below, drives one with wrk at 8 connections (``--connections``) while ``py-spy record`` samples
every worker process (``--py-spy PATH``, else ``py-spy`` on ``PATH``; the
package of that name installs it): the server's CPU time per request (from
/proc, the steadier figure on a shared machine), then the samples split by
where the innermost frame is (the buckets of ``bench/profile.py``), the
innermost functions, and the share of samples under each of vpnaas' own
functions (inclusive):

a) ``pg-list``: the cached list of 1,000, PostgreSQL, 2 workers;
b) ``pg-list`` and ``sqlite-list`` with the paced writer (20 updates/s);
c) ``pg-nocache`` and ``sqlite-nocache``: every list built afresh;
e) ``pg-write`` and ``sqlite-write``: connection creates (one connection).

``--scenarios create`` (or ``list``) runs only the scenarios of that kind.

py-spy samples threads that are not idle: a thread waiting for the GIL
counts, one blocked in a socket read (psycopg waiting for the server) does
not, unless ``--idle``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench import load
from bench.front import _cpu_seconds
from bench.production import WRITES_PER_SECOND
from bench.production_setup import CONNS, HEADERS, Stack, start_stack
from bench.profile import _bucket
from bench.servers import HOST

__all__ = ["main"]

RATE = 200  # samples a second
#: (label, server, with the paced writer, what wrk sends: "list" or "create")
SCENARIOS: list[tuple[str, str, bool, str]] = [
    ("a) cached list, PostgreSQL, 2 workers", "pg-list", False, "list"),
    ("b) list with 20 updates/s, PostgreSQL, 2 workers", "pg-list", True, "list"),
    ("b) list with 20 updates/s, SQLite, 1 worker", "sqlite-list", True, "list"),
    ("c) uncached list, PostgreSQL", "pg-nocache", False, "list"),
    ("c) uncached list, SQLite", "sqlite-nocache", False, "list"),
    ("e) create, PostgreSQL", "pg-write", False, "create"),
    ("e) create, SQLite", "sqlite-write", False, "create"),
]


#: innermost frames where a thread waits rather than works
IDLE = ("thread.py:_worker", "selectors.py:EpollSelector.select", "_read_from_self")
DB_WAIT = "psycopg/connection.py:Connection.wait"


def _frame(text: str) -> str:
    """``function (file:line)`` as py-spy writes it: ``file:function`` (file from the package)."""
    name, _, where = text.rpartition(" (")
    file = where.rsplit(":", 1)[0]
    return f"{file.split('site-packages/')[-1].split('/src/')[-1]}:{name}"


def _kind(leaf: str) -> str:
    if any(leaf.endswith(idle) for idle in IDLE):
        return "idle (a thread waiting for work or a socket)"
    if leaf == DB_WAIT:
        return "waiting for PostgreSQL's answer (psycopg)"
    return _bucket("/" + leaf)


def summarise(raw: list[Path], requests: int, label: str) -> None:
    own: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in raw:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [_frame(f) for f in stack.split(";") if " (" in f]
            if not frames:
                continue
            samples = int(count)
            total += samples
            own[frames[-1]] += samples
            kinds[_kind(frames[-1])] += samples
            for ours in {f for f in frames if f.startswith("vpnaas/")}:
                inclusive[ours] += samples
    ms = 1000 / RATE / max(requests, 1)
    print(f"\n## {label}: {total} samples, {total * ms:.2f} ms sampled per request")
    for title, counter, shown in (
        ("by kind of innermost frame", kinds, 12),
        ("innermost functions", own, 14),
        ("vpnaas functions, inclusive", inclusive, 24),
    ):
        print(f"  {title}:")
        for name, n in counter.most_common(shown):
            print(f"  {n * ms:8.3f} ms {100 * n / max(total, 1):5.1f}%  {name}")


def profile(stack: Stack, label: str, server: str, writes: bool, kind: str, args: Any) -> None:
    proc = stack.procs[server]
    db = server.split("-")[0]
    work: Path = args.work
    writer = load.PacedWriter(HOST, proc.port, stack.update_ids[db], WRITES_PER_SECOND, HEADERS)
    thread = threading.Thread(target=writer.run, args=(args.seconds + 2.0,))
    if writes:
        thread.start()
    spies = []
    raw = []
    for pid in proc.worker_pids():
        if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            continue  # multiprocessing's helper process, not a worker
        out = work / f"{server}-{pid}-{len(list(work.iterdir()))}.txt"
        raw.append(out)
        command = [args.py_spy, "record", "--pid", str(pid), "--rate", str(RATE)]
        command += ["--duration", str(args.seconds), "--format", "raw", "--output", str(out)]
        spies.append(subprocess.Popen([*command, *(["--idle"] if args.idle else [])]))
    cpu = _cpu_seconds(proc)
    request = load.Request("GET", CONNS, None, HEADERS)
    if kind == "create":
        request = load.Request("POST", CONNS, json.dumps(stack.topo[db].create_body()), HEADERS)
    result = load.run(
        proc.base,
        request,
        connections=args.connections,
        seconds=args.seconds,
        script_dir=work,
    )
    cpu = _cpu_seconds(proc) - cpu
    for spy in spies:
        spy.wait(timeout=60)
    if writes:
        thread.join()
    print(
        f"\n# {label}: {result.rps:.1f} requests/s, server CPU"
        f" {1000 * cpu / result.requests:.2f} ms per request"
        f"{f'; {writer.rate:.1f} writes/s' if writes else ''}"
    )
    summarise([p for p in raw if p.exists()], result.requests, label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.production_profile", description=__doc__)
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="the py-spy binary")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per scenario")
    parser.add_argument("--idle", action="store_true", help="also sample idle threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk's connections (8)")
    parser.add_argument(
        "--only", default="", help="only scenarios whose label starts so, e.g. 'a)'"
    )
    parser.add_argument(
        "--scenarios", choices=["list", "create"], help="only scenarios of this kind"
    )
    args = parser.parse_args(argv)
    if not args.py_spy:
        parser.error("py-spy not found: install the py-spy package, or give --py-spy PATH")
    with tempfile.TemporaryDirectory(prefix="vpnaas-production-profile-") as tmp:
        args.work = Path(tmp) / "spy"
        args.work.mkdir()
        stack = start_stack(Path(tmp))
        try:
            for label, server, writes, kind in SCENARIOS:
                if args.scenarios in (None, kind) and label.startswith(args.only):
                    profile(stack, label, server, writes, kind, args)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
