"""A world for the list cache's tests on one database: a caching app and
one with the response cache off over the same database (and, with the
strongSwan driver, the agent API), a router with a VPN service, policies,
endpoint groups and eight connections, and helpers that write and compare
(``tests/functional/test_incremental_lists.py``,
``tests/functional/test_concurrent_writes.py``)."""

from __future__ import annotations

import dataclasses
import os
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
#: the lists compared (the ones the tests write)
LISTS = (
    CONNS,
    "/v2.0/vpn/ikepolicies",
    "/v2.0/vpn/endpoint-groups",
    "/v2.0/vpn/vpnservices",
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


def worlds(driver: str, tmp_path: Path) -> Iterator[World]:
    """A world with ``driver`` on the suite's database (a fresh one on the
    server ``VPNAAS_TEST_DATABASE_URL`` names), else on SQLite."""
    server_url = os.environ.get(SERVER_URL_ENV)
    if server_url:
        with databases.fresh_database(server_url) as url:
            yield from open_world(url, driver)
    else:
        yield from open_world(f"sqlite:///{tmp_path / 'vpnaas.sqlite'}", driver)


def open_world(url: str, driver: str) -> Iterator[World]:
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
        build(world, public)
        yield world
    finally:
        if agents is not None:
            agents.close()
        cached.db.dispose()
        fresh.db.dispose()


def made(got: testing.Result, member: str) -> str:
    assert got.status_code == 201, f"{member}: {got.text}"
    return str(got.json[member]["id"])


def build(w: World, public: str) -> None:
    net = made(w.call("POST", "/v2.0/networks", body={"network": {"name": "n"}}), "network")
    subnet = made(
        w.call(
            "POST",
            "/v2.0/subnets",
            body={"subnet": {"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4}},
        ),
        "subnet",
    )
    gateway = {"external_gateway_info": {"network_id": public}}
    w.router = made(w.call("POST", "/v2.0/routers", body={"router": gateway}), "router")
    got = w.call(
        "PUT", f"/v2.0/routers/{w.router}/add_router_interface", body={"subnet_id": subnet}
    )
    assert got.status_code == 200, got.text
    ike = made(
        w.call("POST", "/v2.0/vpn/ikepolicies", body={"ikepolicy": {"name": "ike"}}), "ikepolicy"
    )
    w.ikes.append(ike)
    w.ikes.append(
        made(
            w.call("POST", "/v2.0/vpn/ikepolicies", OTHER, {"ikepolicy": {"name": "b"}}),
            "ikepolicy",
        )
    )
    ipsec = made(
        w.call("POST", "/v2.0/vpn/ipsecpolicies", body={"ipsecpolicy": {"name": "p"}}),
        "ipsecpolicy",
    )
    service = made(
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
            made(w.call("POST", "/v2.0/vpn/endpoint-groups", body=body), "endpoint_group")
        )
    w.common = {"vpnservice_id": service, "ikepolicy_id": ike, "ipsecpolicy_id": ipsec}
    for n in range(8):
        w.conns.append(create_connection(w, n))
    if w.agents is not None:  # out of PENDING_CREATE: updates are accepted
        report(w, random.Random(0))


def create_connection(w: World, n: int) -> str:
    body = {
        **w.common,
        "name": f"c{n}",
        "peer_address": "172.24.4.9",
        "peer_id": "@peer",
        "peer_cidrs": [f"10.{100 + n % 150}.{n // 150}.0/24"],
        "psk": "secret",
    }
    return made(
        w.call("POST", CONNS, body={"ipsec_site_connection": body}), "ipsec_site_connection"
    )


def report(w: World, rng: random.Random) -> None:
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


def compare(w: World) -> None:
    for path in LISTS:
        for caller in CALLERS:
            headers = w.headers[caller]
            cached = w.cached.simulate_get(path, headers=headers)
            fresh = w.fresh.simulate_get(path, headers=headers)
            assert cached.status_code == fresh.status_code == 200, cached.text
            assert cached.content == fresh.content, f"{path} as {caller}"


def unnumbered(w: World) -> int:
    """Committed rows no bump numbered (every write path must number its rows)."""
    app = w.cached.app
    s = schema()
    with app.db.read() as conn:  # type: ignore[attr-defined]
        return sum(
            conn.scalar(sa.select(sa.func.count()).where(column.is_(None))) or 0
            for column in (s.row_revision(res.member) for res in catalog().resources)
            if column is not None
        )
