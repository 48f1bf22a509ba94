"""Creates, updates and status writes on the same parents at once: each
finishes first time, none is given up by the database as a deadlock, and
every row is numbered for the kept lists (docs/decisions.md, "Lists kept
up to date by rows").

The write that numbers a transaction's rows runs while that transaction
holds its resource's write counter; on PostgreSQL it re-runs the foreign-key
checks of a row the transaction wrote, whose share locks on the service and
the policies must not wait for another create that locked them and now
waits for the counter. The database suite runs this on PostgreSQL and
MariaDB (``VPNAAS_TEST_DATABASE_URL``); on SQLite the writes take turns.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.lists_world import (
    CONNS,
    World,
    compare,
    create_connection,
    unnumbered,
    worlds,
)

#: writers at once, and the writes each makes
THREADS = 8
WRITES = 6


@pytest.fixture(params=["null", "strongswan"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def _writer(w: World, number: int) -> list[str]:
    """Creates on the world's service and policies; every other writer
    also updates a connection between its creates (the null driver writes
    a status after each)."""
    rng = random.Random(number)
    made = []
    for n in range(WRITES):
        made.append(create_connection(w, 200 + number * WRITES + n))
        if number % 2:
            conn = rng.choice(w.conns)
            body = {"ipsec_site_connection": {"description": f"w{number}-{n}"}}
            got = w.call("PUT", f"{CONNS}/{conn}", body=body)
            assert got.status_code in (200, 400), got.text  # 400: still pending
    return made


def test_concurrent_creates_on_one_service_never_deadlock(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vpnaas.db.engine")
    with ThreadPoolExecutor(THREADS) as pool:
        done = [pool.submit(_writer, world, number) for number in range(THREADS)]
        made = [conn for job in done for conn in job.result()]
    assert len(set(made)) == THREADS * WRITES
    lost = [r.getMessage() for r in caplog.records if "lost a race" in r.getMessage()]
    assert not [m for m in lost if "deadlock" in m.lower()], lost
    assert unnumbered(world) == 0
    compare(world)
