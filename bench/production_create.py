"""Where a create's time goes, against its floor: ``python -m bench.production_create``.

Figure e) of ``python -m bench.production`` in process, without HTTP: the
real WSGI application (``vpnaas.app.create_app``, every middleware) and the
SQLite create floor (``bench.ceilings floor``, its statements alone through
``sqlite3``) each get the same connection create, alternately, on copies of
one seeded database. For vpnaas it also times, inclusive, the steps of
:meth:`vpnaas.api.controller.Controller.create` (wrapped for the run, not
changed): the body's validation, policy, the rules' lookups, the writes and
the counter bump, the transaction around them, the driver's status change
in its own transaction, and rendering; what is left is the WSGI stack.

Times are the CPU time of the request's thread (``time.thread_time``): on
a shared machine wall times mostly measure the wait for a core. Prints the
median and the 10th percentile of each, in milliseconds, and the ratio
against the floor.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import ceilings, seed
from vpnaas.api import body, render
from vpnaas.app import create_app
from vpnaas.db import engine, writes
from vpnaas.drivers import StatusWriter
from vpnaas.policy import Authorizer
from vpnaas.rules.ipsec_site_connection import ConnectionRules
from vpnaas.settings import load

__all__ = ["main"]

CONNS = "/v2.0/vpn/ipsec-site-connections"

#: (label, owner of the function, its name); inclusive times, nested ones
#: included in their callers' (the transaction holds the rules and writes)
STEPS: list[tuple[str, Any, str]] = [
    ("body: validation and defaults", body, "prepare_create"),
    ("policy: scope and create rules", Authorizer, "authorize"),
    ("rules: the service, policies, subnet, gateway lookups", ConnectionRules, "on_create"),
    ("writes: the row and its peer CIDRs", writes.Writer, "insert"),
    ("write counter bump", writes.Writer, "bump_revisions"),
    ("driver: status change, its own transaction", StatusWriter, "set"),
    ("render the answer", render, "item"),
]


class Timings:
    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.samples: dict[str, list[float]] = defaultdict(list)

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[label] += time.thread_time() - start

        return timed

    def close(self, total: float) -> None:
        """End one request: keep each step's time, and the request's."""
        self.samples["whole request (WSGI app, in process)"].append(total)
        for label, _, _ in STEPS:
            self.samples[label].append(self.spent.pop(label, 0.0))
        self.samples["transaction: connect, BEGIN ... COMMIT"].append(self.spent.pop("tx", 0.0))


@contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    saved = [(owner, name, getattr(owner, name)) for _, owner, name in STEPS]
    saved.append((engine.Database, "write", engine.Database.write))
    try:
        for label, owner, name in STEPS:
            setattr(owner, name, timings.wrap(label, getattr(owner, name)))
        original = engine.Database.write

        @contextmanager
        def write(self: engine.Database) -> Iterator[Any]:
            start = time.thread_time()
            with original(self) as conn:
                yield conn
            timings.spent["tx"] += time.thread_time() - start

        engine.Database.write = write  # type: ignore[method-assign]
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def run(requests: int, work: Path) -> dict[str, tuple[float, float]]:
    template = work / "template.sqlite"
    topo = seed.build_template(template)
    vpnaas_db = work / "vpnaas.sqlite"
    seed.copy_db(template, vpnaas_db)
    seed.add_connections(vpnaas_db, 998)
    (work / "ceilings").mkdir()
    seed.copy_db(vpnaas_db, work / "ceilings" / "floor.sqlite")
    os.environ[ceilings.DATA_ENV] = str(work / "ceilings")
    ours = seed.InProcessClient(
        create_app(load([], database_url=seed.db_url(vpnaas_db))), seed.PROJECT
    )
    floor = seed.InProcessClient(ceilings.floor_app(), seed.PROJECT)  # type: ignore[arg-type]
    timings = Timings()
    floor_ms: list[float] = []

    def create(client: seed.InProcessClient) -> float:
        start = time.thread_time()
        code, answer = client.raw("POST", CONNS, topo.create_body())
        if code != 201:
            raise RuntimeError(f"create -> {code}: {answer[:300]!r}")
        return time.thread_time() - start

    for _ in range(50):  # warm both
        create(ours)
        create(floor)
    with instrumented(timings):
        for _ in range(requests):
            timings.spent.clear()
            timings.close(create(ours))
            floor_ms.append(create(floor))
    samples = {**timings.samples, "the floor: the same statements through sqlite3": floor_ms}
    return {label: (_ms(v, 0.5), _ms(v, 0.1)) for label, v in samples.items()}


def _ms(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (seconds), in milliseconds."""
    return 1000 * sorted(values)[int(share * (len(values) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.production_create", description=__doc__)
    parser.add_argument(
        "--requests", type=int, default=2000, help="creates of each (default 2,000)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vpnaas-production-create-") as tmp:
        medians = run(args.requests, Path(tmp))
    whole = medians["whole request (WSGI app, in process)"]
    floor = medians["the floor: the same statements through sqlite3"]
    print(f"CPU ms per create, {args.requests} creates each, load average {os.getloadavg()}")
    print("   median   10th %")
    for label, (median, low) in medians.items():
        print(f"  {median:7.3f}  {low:7.3f}  {label}")
    ratios = f"{floor[0] / whole[0]:.2f} (median), {floor[1] / whole[1]:.2f} (10th %)"
    print(f"  floor / vpnaas in process: {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
