"""The RSGI front against granian's WSGI interface, side by side.

``vpnaas serve`` runs the WSGI application behind ``vpnaas.api.bridge`` on
granian's RSGI interface; before, granian called it on one blocking thread
of its WSGI interface. This starts, on copies of the same seeded database
(one worker, one request thread each), the WSGI interface, the front as it
first ran (every request through asyncio's own event loop, ``before``) and
the front as ``vpnaas serve`` runs it (uvloop; requests without a body
answered before the loop), and drives them with wrk in turns (the order
reversed every other round), so that load from elsewhere slows all alike;
then prints the medians: requests a second, and the CPU time the server's
processes used per request (read from /proc: on a machine shared with
other work, the steadier of the two). Lists are the path that must not get
slower; a create reads a body, which the front awaits before the
application runs.

    .venv/bin/python -m bench.front [--pairs 7] [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import load, seed
from bench.servers import HOST, Process, free_port, vpnaas_command
from vpnaas.api.bridge import Bridge
from vpnaas.app import create_app
from vpnaas.settings import load as load_settings
from vpnaas.wsgi import front_limits

HEADERS = (("X-Project-Id", seed.PROJECT),)


#: the servers compared, in the order of the table's columns
NAMES = ("wsgi", "before", "front")


def before() -> Bridge:
    """The front as it first ran in a granian worker: every request through
    the event loop (granian's factory for the ``before`` server)."""
    spec = json.loads(os.environ["VPNAAS_SERVE"])
    settings = load_settings([], **spec["overrides"])
    return Bridge(create_app(settings), front_limits(settings), settings.request_threads)


def _command(name: str, db: Path, port: int) -> list[str]:
    """``vpnaas serve`` (``front``), or the same app on granian's WSGI
    interface with one blocking thread (``wsgi``, what ``vpnaas serve`` ran
    before the front) or behind the front as it first ran (``before``, on
    asyncio's loop)."""
    if name == "front":
        return vpnaas_command(db, port, 1)
    spec = json.dumps({"config_files": [], "overrides": {"database_url": seed.db_url(db)}})
    run = (
        f"run_granian('vpnaas.wsgi:from_environment', '{HOST}', {port}, 1, 1)"
        if name == "wsgi"
        else f"run_granian('bench.front:before', '{HOST}', {port}, 1, "
        "interface='rsgi', http1=api_http1(load([])), loop='asyncio')"
    )
    code = (
        "import os, sys; os.environ['VPNAAS_SERVE'] = sys.argv[1]; "
        "from vpnaas.cli import api_http1, run_granian; "
        "from vpnaas.settings import load; " + run
    )
    return [sys.executable, "-c", code, spec]


def _figures(topo: seed.Topology) -> dict[str, load.Request]:
    path = "/v2.0/vpn/ipsec-site-connections"
    return {
        "list, N=10": load.Request(path=path, headers=HEADERS),
        "create": load.Request(
            method="POST", path=path, body=json.dumps(topo.create_body()), headers=HEADERS
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.front")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vpnaas-front-") as tmp:
        work = Path(tmp)
        topo = seed.build_template(work / "template.sqlite")
        seed.add_connections(work / "template.sqlite", 8)
        servers = []
        for name in NAMES:
            db = work / f"{name}.sqlite"
            seed.copy_db(work / "template.sqlite", db)
            port = free_port()
            servers.append(Process(name, _command(name, db, port), port, work / f"{name}.log"))
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
            _drive(servers, _figures(topo), args.pairs, args.seconds, work)
        finally:
            for server in servers:
                server.stop()
    return 0


def _cpu_seconds(server: Process) -> float:
    """CPU time (user + system) the server's processes have used so far."""
    ticks = 0
    for pid in [server.pid, *server.worker_pids()]:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _drive(
    servers: list[Process], figures: dict[str, load.Request], pairs: int, seconds: int, work: Path
) -> None:
    print(
        "| figure | c | WSGI, blocking thread: req/s, CPU ms/req "
        "| front before: req/s, CPU ms/req | front as served: req/s, CPU ms/req "
        "| as served / WSGI: req/s, CPU | as served / before: req/s, CPU |"
    )
    print("|---|---|---|---|---|---|---|")
    for key, request in figures.items():
        for conns in (1, 8):
            rates: dict[str, list[float]] = {s.name: [] for s in servers}
            costs: dict[str, list[float]] = {s.name: [] for s in servers}
            for i in range(pairs):
                for server in servers if i % 2 == 0 else servers[::-1]:
                    cpu = _cpu_seconds(server)
                    result = load.run(
                        server.base, request, connections=conns, seconds=seconds, script_dir=work
                    )
                    rates[server.name].append(result.rps)
                    costs[server.name].append(
                        1000 * (_cpu_seconds(server) - cpu) / max(result.requests, 1)
                    )
            rate = {n: statistics.median(r) for n, r in rates.items()}
            cost = {n: statistics.median(c) for n, c in costs.items()}
            cells = " | ".join(f"{rate[n]:,.0f}, {cost[n]:.3f}" for n in NAMES)
            print(
                f"| {key} | {conns} | {cells} "
                f"| {rate['front'] / rate['wsgi']:.2f}, {cost['front'] / cost['wsgi']:.2f} "
                f"| {rate['front'] / rate['before']:.2f}, {cost['front'] / cost['before']:.2f} |"
            )


if __name__ == "__main__":
    raise SystemExit(main())
