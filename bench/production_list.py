"""The uncached list of 1,000 in process: ``python -m bench.production_list``.

Figure c) of ``python -m bench.production`` without HTTP: the real WSGI
application (``vpnaas.app.create_app`` without a response cache, every
middleware) lists the seeded project's 1,000 connections read straight into
their wire form (``Controller.direct_lists``, the default) and, alternately,
through objects (the path a ``fields=`` list takes), beside the ``rows``
ceiling of ``bench/production_ceilings.py`` on the same SQLite file. The
two vpnaas bodies must be the same bytes.

Times are the CPU time of the request's thread (``time.thread_time``): on a
shared machine wall times mostly measure the wait for a core. Prints the
median and the 10th percentile of each in milliseconds, the ratios of the
medians, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import production_ceilings, seed
from vpnaas.app import create_app
from vpnaas.settings import load

__all__ = ["main"]

CONNS = "/v2.0/vpn/ipsec-site-connections"
#: the seeded database holds the template's two connections and these clones
CLONES = 998


def _lister(app: Any) -> Callable[[], bytes]:
    """One GET of the connections list as the seeded project, through
    ``app`` (vpnaas' application or a bare WSGI callable)."""
    client = seed.InProcessClient(app, seed.PROJECT)

    def get() -> bytes:
        code, body = client.raw("GET", CONNS)
        assert code == 200, body[:200]
        return body

    return get


def run(requests: int, work: Path) -> dict[str, list[float]]:
    """CPU ms of each of ``requests`` lists by each server, taking turns."""
    db = work / "list.sqlite"
    seed.build_template(db)
    seed.add_connections(db, CLONES)
    url = seed.db_url(db)
    direct = create_app(load([], database_url=url, response_cache=False, access_log=False))
    objects = create_app(load([], database_url=url, response_cache=False, access_log=False))
    objects.controller.direct_lists = False
    os.environ[production_ceilings.URL_ENV] = url
    servers = {
        "direct": _lister(direct),
        "objects": _lister(objects),
        "ceiling": _lister(production_ceilings.rows_app()),
    }
    assert servers["direct"]() == servers["objects"](), "the two paths answer differently"
    times: dict[str, list[float]] = {name: [] for name in servers}
    order = list(servers)
    for n in range(requests):
        for name in order if n % 2 == 0 else reversed(order):
            began = time.thread_time()
            servers[name]()
            times[name].append((time.thread_time() - began) * 1000)
    direct.db.dispose()
    objects.db.dispose()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.production_list", description=__doc__)
    parser.add_argument("--requests", type=int, default=60, help="lists per server (default 60)")
    args = parser.parse_args(argv)
    before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vpnaas-list-") as tmp:
        times = run(args.requests, Path(tmp))
    medians = {name: statistics.median(spent) for name, spent in times.items()}
    for name, spent in times.items():
        tenth = sorted(spent)[len(spent) // 10]
        print(f"{name:8s} CPU ms a list: median {medians[name]:6.2f}, 10th percentile {tenth:6.2f}")
    print(f"direct / through objects: {medians['direct'] / medians['objects']:.2f}")
    print(f"ceiling / direct: {medians['ceiling'] / medians['direct']:.2f}")
    print(f"load average {before} -> {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
