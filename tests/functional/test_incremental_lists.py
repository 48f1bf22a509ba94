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

import dataclasses
import os
import random
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from falcon import testing

from tests.support import databases
from tests.support.matrix import ADMIN, OTHER, OWNER, READER, noauth_headers
from vpnaas.api.lists import Lists, ListState
from vpnaas.app import create_agent_app, create_app
from vpnaas.db.tables import schema
from vpnaas.settings import AgentAPIOptions, Settings, TopologySeed
from vpnaas.spec import catalog
from vpnaas.topology.seed import seed_external_network

SERVER_URL_ENV = "VPNAAS_TEST_DATABASE_URL"
#: every kind of caller: project scoped (two projects, two roles), unscoped
CALLERS = (OWNER, READER, OTHER, ADMIN)
CONNS = "/v2.0/vpn/ipsec-site-connections"
#: the lists compared after each round (the ones the workers write)
LISTS = (
    CONNS,
    "/v2.0/vpn/ikepolicies",
    "/v2.0/vpn/endpoint-groups",
    "/v2.0/vpn/vpnservices",
)
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


@dataclass
class World:
    cached: testing.TestClient
    fresh: testing.TestClient
    agents: testing.TestClient | None
    headers: dict[str, dict[str, str]]
    router: str = ""
    common: dict[str, str] = field(default_factory=dict)
    conns: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    ikes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    spy: Spy = field(default_factory=lambda: Spy())

    def call(self, method: str, path: str, caller: str = OWNER, body: Any = None) -> testing.Result:
        return self.cached.simulate_request(method, path, json=body, headers=self.headers[caller])


@dataclass
class Spy:
    """What the caching app's lists did: refreshes that kept rows, and how
    many rows each encoding was handed."""

    refreshes: int = 0
    encoded: list[int] = field(default_factory=list)

    def watch(self, lists: Lists) -> None:
        refresh, encoded = lists._refresh, lists._encoded

        def counted_refresh(*args: Any) -> ListState:
            self.refreshes += 1
            return refresh(*args)

        def counted_encoded(*args: Any) -> dict[str, bytes]:
            self.encoded.append(len(args[-1]))
            return encoded(*args)

        setattr(lists, "_refresh", counted_refresh)  # noqa: B010
        setattr(lists, "_encoded", counted_encoded)  # noqa: B010


@pytest.fixture(params=["null", "strongswan"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    server_url = os.environ.get(SERVER_URL_ENV)
    if server_url:
        with databases.fresh_database(server_url) as url:
            yield from _world(url, request.param)
    else:
        yield from _world(f"sqlite:///{tmp_path / 'vpnaas.sqlite'}", request.param)


def _world(url: str, driver: str) -> Iterator[World]:
    public = str(uuid.uuid4())
    settings = Settings(
        database_url=url,
        driver=driver,
        seed=TopologySeed(network_id=public),
        agent_api=AgentAPIOptions(agent_down_time=30),
    )
    cached = create_app(settings)
    fresh = create_app(dataclasses.replace(settings, response_cache=False))
    agents = create_agent_app(settings) if driver == "strongswan" else None
    schema().metadata.create_all(cached.db.engine)
    seed_external_network(cached.controller, settings.seed)
    world = World(
        testing.TestClient(cached),
        testing.TestClient(fresh),
        None if agents is None else testing.TestClient(agents),
        noauth_headers(uuid.uuid4().hex, uuid.uuid4().hex),
    )
    world.spy.watch(cached.controller.lists)
    try:
        _build(world, public)
        yield world
    finally:
        if agents is not None:
            agents.close()
        cached.db.dispose()
        fresh.db.dispose()


def _made(got: testing.Result, member: str) -> str:
    assert got.status_code == 201, f"{member}: {got.text}"
    return str(got.json[member]["id"])


def _build(w: World, public: str) -> None:
    net = _made(w.call("POST", "/v2.0/networks", body={"network": {"name": "n"}}), "network")
    subnet = _made(
        w.call(
            "POST",
            "/v2.0/subnets",
            body={"subnet": {"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4}},
        ),
        "subnet",
    )
    gateway = {"external_gateway_info": {"network_id": public}}
    w.router = _made(w.call("POST", "/v2.0/routers", body={"router": gateway}), "router")
    got = w.call(
        "PUT", f"/v2.0/routers/{w.router}/add_router_interface", body={"subnet_id": subnet}
    )
    assert got.status_code == 200, got.text
    ike = _made(
        w.call("POST", "/v2.0/vpn/ikepolicies", body={"ikepolicy": {"name": "ike"}}), "ikepolicy"
    )
    w.ikes.append(ike)
    w.ikes.append(
        _made(
            w.call("POST", "/v2.0/vpn/ikepolicies", OTHER, {"ikepolicy": {"name": "b"}}),
            "ikepolicy",
        )
    )
    ipsec = _made(
        w.call("POST", "/v2.0/vpn/ipsecpolicies", body={"ipsecpolicy": {"name": "p"}}),
        "ipsecpolicy",
    )
    service = _made(
        w.call(
            "POST",
            "/v2.0/vpn/vpnservices",
            body={"vpnservice": {"router_id": w.router, "subnet_id": subnet}},
        ),
        "vpnservice",
    )
    for n in range(3):
        body = {"endpoint_group": {"type": "cidr", "endpoints": [f"10.{60 + n}.0.0/24"]}}
        w.groups.append(
            _made(w.call("POST", "/v2.0/vpn/endpoint-groups", body=body), "endpoint_group")
        )
    w.common = {"vpnservice_id": service, "ikepolicy_id": ike, "ipsecpolicy_id": ipsec}
    for n in range(8):
        w.conns.append(_create(w, n))
    if w.agents is not None:  # out of PENDING_CREATE: updates are accepted
        _report(w, random.Random(0))


def _create(w: World, n: int) -> str:
    body = {
        **w.common,
        "name": f"c{n}",
        "peer_address": "172.24.4.9",
        "peer_id": "@peer",
        "peer_cidrs": [f"10.{100 + n % 150}.{n // 150}.0/24"],
        "psk": "secret",
    }
    return _made(
        w.call("POST", CONNS, body={"ipsec_site_connection": body}), "ipsec_site_connection"
    )


def _report(w: World, rng: random.Random) -> None:
    """An agent reports a status for each connection of the router."""
    assert w.agents is not None
    query = {"host": "gw-a", "router": w.router}
    state = w.agents.simulate_get("/agent/v1/state", params=query)
    assert state.status_code == 200, state.text
    entries = [
        {"id": c["id"], "revision": c["revision"], "status": rng.choice(["ACTIVE", "DOWN"])}
        for s in state.json["routers"][0]["services"]
        for c in s["connections"]
    ]
    body = {"host": "gw-a", "routers": [w.router], "connections": entries}
    got = w.agents.simulate_post("/agent/v1/reports", json=body)
    assert got.status_code == 200, got.text


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
        made = _create(w, 1000 + serial)
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
        _report(w, rng)
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


def _compare(w: World) -> None:
    for path in LISTS:
        for caller in CALLERS:
            headers = w.headers[caller]
            cached = w.cached.simulate_get(path, headers=headers)
            fresh = w.fresh.simulate_get(path, headers=headers)
            assert cached.status_code == fresh.status_code == 200, cached.text
            assert cached.content == fresh.content, f"{path} as {caller}"


def _unnumbered(w: World) -> int:
    """Committed rows no bump numbered (every write path must number its rows)."""
    app = w.cached.app
    s = schema()
    with app.db.read() as conn:  # type: ignore[attr-defined]
        return sum(
            conn.scalar(sa.select(sa.func.count()).where(column.is_(None))) or 0
            for column in (s.row_revision(res.member) for res in catalog().resources)
            if column is not None
        )


def test_refreshed_lists_equal_full_reads(world: World) -> None:
    _compare(world)
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
        _compare(world)
        assert _unnumbered(world) == 0
    assert world.spy.refreshes > 0, "no list was refreshed row by row"


def test_a_status_write_reaches_a_kept_list(world: World) -> None:
    """A status written after a list was kept (by an agent's report, or by
    the driver) is in the refreshed list."""
    rng = random.Random(1)
    for _ in range(4):
        _status(world, rng, world.conns[2])
        _compare(world)
    assert world.spy.refreshes >= 4


@pytest.mark.parametrize("change", ["description", "peer_cidrs"])
def test_a_refreshed_list_reads_only_the_rows_written(world: World, change: str) -> None:
    """After an update of one connection (a plain attribute, or a list
    attribute alone), each caller's refresh encodes that row alone, and
    the body is the full read's."""
    for caller in (OWNER, ADMIN):
        assert world.call("GET", CONNS, caller).status_code == 200
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
    assert world.spy.refreshes == refreshes + 2
    assert world.spy.encoded == [1, 1]
