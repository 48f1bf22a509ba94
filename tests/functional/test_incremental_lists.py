"""Lists refreshed by the rows written since are byte for byte the lists
read in full (``vpnaas.api.lists``, ``docs/api/common.md`` §list).

Two apps over one database: a caching one, whose whole lists are kept as
rows and refreshed from the rows written since, and one with the response
cache off, which reads every list in full. Worker threads interleave
creates, updates (plain attributes and list attributes alone), status
writes (the null driver's after each write, or an agent's reports through
the agent API with the strongSwan driver), deletes and cached lists; after
each round every list of the cached app, as every kind of caller, must be
the bytes the other app answers. A refresh that missed a write would keep
serving the stale row, so it shows at the next comparison. On SQLite, and
on PostgreSQL and MariaDB when the database suite sets
``VPNAAS_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.lists_world import (
    CALLERS,
    CONNS,
    LISTS,
    World,
    compare,
    create_connection,
    report,
    unnumbered,
    worlds,
)
from tests.support.matrix import ADMIN, OTHER, OWNER
from vpnaas.api.cache import ResponseCache

WORKERS = 4
ROUNDS = 16
STEPS = 3
#: what a step does, weighted (a delete makes the next lists full reads:
#: rarer, so that refreshes run on refreshes between two comparisons)
KINDS = (
    ("list", 5),
    ("update", 3),
    ("status", 3),
    ("cidrs", 1),
    ("create", 1),
    ("other", 1),
    ("delete", 1),
)


@pytest.fixture(params=["null", "strongswan"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def _step(w: World, rng: random.Random, serial: int) -> None:
    """One random write or cached list."""
    kind = rng.choices([k for k, _ in KINDS], [weight for _, weight in KINDS])[0]
    with w.lock:
        conn = rng.choice(w.conns) if w.conns else None
    if kind == "list" or conn is None:
        w.call("GET", rng.choice(LISTS), rng.choice(CALLERS))
    elif kind == "update":
        change: dict[str, Any] = {"description": f"d{serial}"}
        got = w.call("PUT", f"{CONNS}/{conn}", body={"ipsec_site_connection": change})
        assert got.status_code in (200, 400, 404), got.text  # 400: still pending
    elif kind == "cidrs":  # a list attribute
        change = {"peer_cidrs": [f"10.{serial % 250}.9.0/24"]}
        got = w.call("PUT", f"{CONNS}/{conn}", body={"ipsec_site_connection": change})
        assert got.status_code in (200, 400, 404), got.text
    elif kind == "create":
        made = create_connection(w, 1000 + serial)
        with w.lock:
            w.conns.append(made)
    elif kind == "delete":
        with w.lock:
            if conn in w.conns:
                w.conns.remove(conn)
        got = w.call("DELETE", f"{CONNS}/{conn}")
        assert got.status_code in (204, 404), got.text
    elif kind == "status":
        _status(w, rng, conn)
    else:  # another resource's rows: an ike policy, an endpoint group's list
        _other(w, rng, serial)


def _status(w: World, rng: random.Random, conn: str) -> None:
    """A status write on a list just read: an agent's report (strongSwan),
    or the driver's own write (the null driver's ``StatusWriter``)."""
    w.call("GET", CONNS, rng.choice(CALLERS))
    if w.agents is not None:
        report(w, rng)
    else:
        status = w.cached.app.controller.driver.status  # type: ignore[attr-defined]
        status.set("ipsec_site_connection", conn, rng.choice(["ACTIVE", "ERROR", "DOWN"]))


def _other(w: World, rng: random.Random, serial: int) -> None:
    if rng.random() < 0.5:
        body = {"ikepolicy": {"name": f"ike-{serial}"}}
        got = w.call("PUT", f"/v2.0/vpn/ikepolicies/{w.ikes[1]}", OTHER, body)  # unused
    else:
        body = {"endpoint_group": {"description": f"g{serial}"}}
        got = w.call("PUT", f"/v2.0/vpn/endpoint-groups/{rng.choice(w.groups)}", body=body)
    assert got.status_code == 200, got.text


def test_refreshed_lists_equal_full_reads(world: World) -> None:
    compare(world)
    serial = iter(range(10**6))
    for round_ in range(ROUNDS):
        rngs = [random.Random(f"{round_}-{n}") for n in range(WORKERS)]

        def work(rng: random.Random) -> None:
            for _ in range(STEPS):
                with world.lock:
                    number = next(serial)
                _step(world, rng, number)

        with ThreadPoolExecutor(WORKERS) as pool:
            for done in [pool.submit(work, rng) for rng in rngs]:
                done.result()
        compare(world)
        assert unnumbered(world) == 0
    assert world.spy.refreshes > 0, "no list was refreshed row by row"


def test_a_status_write_reaches_a_kept_list(world: World) -> None:
    """A status written after a list was kept (by an agent's report, or by
    the driver) is in the refreshed list."""
    rng = random.Random(1)
    for _ in range(4):
        _status(world, rng, world.conns[2])
        compare(world)
    assert world.spy.refreshes >= 4


@pytest.mark.parametrize("change", ["description", "peer_cidrs"])
def test_a_refreshed_list_reads_only_the_rows_written(world: World, change: str) -> None:
    """After an update of one connection (a plain attribute, or a list
    attribute alone), each caller's refresh encodes that row alone, the
    body is the full read's, and its entity tag changed to the one a list
    built in full gets (as another worker, with nothing kept, tags it)."""
    before = {}
    for caller in (OWNER, ADMIN):
        got = world.call("GET", CONNS, caller)
        assert got.status_code == 200
        before[caller] = got.headers["etag"]
    world.spy.encoded.clear()
    refreshes = world.spy.refreshes
    value: Any = "changed" if change == "description" else ["10.250.0.0/24"]
    body = {"ipsec_site_connection": {change: value}}
    got = world.call("PUT", f"{CONNS}/{world.conns[3]}", body=body)
    assert got.status_code == 200, got.text
    for caller in (OWNER, ADMIN):
        got = world.call("GET", CONNS, caller)
        shown = {item["id"]: item for item in got.json["ipsec_site_connections"]}
        assert shown[world.conns[3]][change] == value
        assert got.content == world.fresh.simulate_get(CONNS, headers=world.headers[caller]).content
        assert got.headers["etag"] != before[caller]
        before[caller] = got.headers["etag"]
    assert world.spy.refreshes == refreshes + 2
    assert world.spy.encoded == [1, 1]
    world.cached.app.controller.cache = ResponseCache()  # type: ignore[attr-defined]
    for caller in (OWNER, ADMIN):
        assert world.call("GET", CONNS, caller).headers["etag"] == before[caller]
    assert world.spy.refreshes == refreshes + 2
