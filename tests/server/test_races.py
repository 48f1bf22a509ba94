"""Racing requests against a real two-worker server never leave a reference
dangling and never get a 5xx.

A storm of interleaved creates of connections and deletes of the policies and
services they use runs from several threads; then pairs of conflicting
requests (a service on a router while its gateway goes, a service on a subnet
while its interface goes, a connection on an endpoint group while the group
goes) start at the same instant. Afterwards every reference is checked in SQL.

The database is SQLite, or a fresh database on the server named by
``VPNAAS_TEST_DATABASE_URL`` (e.g. a private PostgreSQL).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import databases
from tests.support.server import Response, ServerProcess, start_server

pytestmark = pytest.mark.slow

PROJECT = {"X-Project-Id": "race-project"}
STORM_THREADS = 4
STORM_ROUNDS = int(os.environ.get("VPNAAS_RACE_ROUNDS", "500"))


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get("VPNAAS_TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('race-db')}/vpnaas.sqlite"
        return
    with databases.fresh_database(server_url) as url:
        subprocess.run(
            [sys.executable, "-m", "vpnaas", "db", "upgrade", "--database-url", url],
            check=True,
            capture_output=True,
        )
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("race-server")
    proc = start_server(workdir, args=("--workers", "2", "--database-url", database_url))
    yield proc
    proc.stop()


def _ok(response: Response, *expected: int) -> Any:
    assert response.status in expected, (response.status, response.body)
    return response.body


class Api:
    """Small helpers over the server, as project ``race-project``."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def call(self, method: str, path: str, body: Any = None) -> Response:
        response = self.server.request(method, f"v2.0/{path}", body, headers=PROJECT)
        assert response.status < 500, (method, path, response.status, response.body)
        return response

    def create(self, path: str, member: str, body: dict[str, Any]) -> str:
        return str(_ok(self.call("POST", path, {member: body}), 201)[member]["id"])


def _topology(api: Api, public: str, cidr: str) -> tuple[str, str]:
    net = api.create("networks", "network", {})
    subnet = api.create("subnets", "subnet", {"network_id": net, "cidr": cidr, "ip_version": 4})
    router = api.create("routers", "router", {"external_gateway_info": {"network_id": public}})
    _ok(api.call("PUT", f"routers/{router}/add_router_interface", {"subnet_id": subnet}), 200)
    return router, subnet


def _connection(service: str, ike: str, ipsec: str) -> dict[str, Any]:
    return {
        "ipsec_site_connection": {
            "vpnservice_id": service,
            "ikepolicy_id": ike,
            "ipsecpolicy_id": ipsec,
            "peer_address": "172.24.4.200",
            "peer_id": "peer",
            "psk": "secret",
            "peer_cidrs": ["10.200.0.0/24"],
        }
    }


def test_a_storm_of_creates_and_deletes_leaves_no_dangling_reference(
    server: ServerProcess, database_url: str
) -> None:
    api = Api(server)
    router, subnet = _topology(api, server.public_network_id, "10.100.0.0/24")
    lock = threading.Lock()
    pools: dict[str, list[str]] = {"service": [], "ike": [], "ipsec": []}
    statuses: Counter[tuple[str, int]] = Counter()

    def replenish(kind: str) -> None:
        if kind == "service":
            new = api.create(
                "vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet}
            )
        elif kind == "ike":
            new = api.create("vpn/ikepolicies", "ikepolicy", {})
        else:
            new = api.create("vpn/ipsecpolicies", "ipsecpolicy", {})
        with lock:
            pools[kind].append(new)

    for kind in pools:
        for _ in range(3):
            replenish(kind)

    def pick(kind: str, rng: random.Random) -> str:
        with lock:
            return rng.choice(pools[kind])

    def forget(kind: str, obj_id: str) -> None:
        with lock:
            if obj_id in pools[kind]:
                pools[kind].remove(obj_id)

    actions: dict[str, tuple[Callable[[random.Random], Response], set[int]]] = {
        "create connection": (
            lambda rng: api.call(
                "POST",
                "vpn/ipsec-site-connections",
                _connection(pick("service", rng), pick("ike", rng), pick("ipsec", rng)),
            ),
            {201, 404},
        ),
        "delete ike policy": (
            lambda rng: _delete(api, "ike", "vpn/ikepolicies", pick("ike", rng), forget),
            {204, 404, 409},
        ),
        "delete ipsec policy": (
            lambda rng: _delete(api, "ipsec", "vpn/ipsecpolicies", pick("ipsec", rng), forget),
            {204, 404, 409},
        ),
        "delete service": (
            lambda rng: _delete(api, "service", "vpn/vpnservices", pick("service", rng), forget),
            {204, 404, 409},
        ),
    }
    weights = {
        "create connection": 5,
        "delete ike policy": 1,
        "delete ipsec policy": 1,
        "delete service": 1,
    }

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        names = list(weights)
        for _ in range(STORM_ROUNDS):
            for kind in pools:
                with lock:
                    short = len(pools[kind]) < 2
                if short:
                    replenish(kind)
            name = rng.choices(names, [weights[n] for n in names])[0]
            action, allowed = actions[name]
            response = action(rng)
            with lock:
                statuses[(name, response.status)] += 1
            assert response.status in allowed, (name, response.status, response.body)

    with ThreadPoolExecutor(STORM_THREADS) as pool:
        list(pool.map(worker, range(STORM_THREADS)))

    assert statuses[("create connection", 201)] > 0, statuses
    assert sum(n for (name, code), n in statuses.items() if code == 409) > 0, statuses
    assert _dangling(database_url) == {}


def _delete(
    api: Api, kind: str, path: str, obj_id: str, forget: Callable[[str, str], None]
) -> Response:
    response = api.call("DELETE", f"{path}/{obj_id}")
    if response.status in (204, 404):
        forget(kind, obj_id)
    return response


def _race(
    first: Callable[[], Response], second: Callable[[], Response]
) -> tuple[Response, Response]:
    barrier = threading.Barrier(2)

    def run(call: Callable[[], Response]) -> Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(run, first), pool.submit(run, second)
        return a.result(), b.result()


def test_a_service_never_outlives_its_router_gateway(server: ServerProcess) -> None:
    api = Api(server)
    for round_ in range(15):
        router, _subnet = _topology(api, server.public_network_id, f"10.110.{round_}.0/24")
        create, remove = _race(
            partial(api.call, "POST", "vpn/vpnservices", {"vpnservice": {"router_id": router}}),
            partial(
                api.call, "PUT", f"routers/{router}", {"router": {"external_gateway_info": None}}
            ),
        )
        assert {create.status, remove.status} in ({201, 409}, {400, 200}), (create, remove)
        gateway = api.call("GET", f"routers/{router}").body["router"]["external_gateway_info"]
        assert (create.status == 201) == (gateway is not None)


def test_a_service_never_outlives_its_subnet_interface(server: ServerProcess) -> None:
    api = Api(server)
    for round_ in range(15):
        router, subnet = _topology(api, server.public_network_id, f"10.120.{round_}.0/24")
        create, remove = _race(
            partial(
                api.call,
                "POST",
                "vpn/vpnservices",
                {"vpnservice": {"router_id": router, "subnet_id": subnet}},
            ),
            partial(
                api.call, "PUT", f"routers/{router}/remove_router_interface", {"subnet_id": subnet}
            ),
        )
        assert {create.status, remove.status} in ({201, 409}, {400, 200}), (create, remove)


def test_a_connection_never_outlives_its_endpoint_group(server: ServerProcess) -> None:
    api = Api(server)
    router, subnet = _topology(api, server.public_network_id, "10.130.0.0/24")
    service = api.create("vpn/vpnservices", "vpnservice", {"router_id": router})
    ike = api.create("vpn/ikepolicies", "ikepolicy", {})
    ipsec = api.create("vpn/ipsecpolicies", "ipsecpolicy", {})
    local = api.create(
        "vpn/endpoint-groups", "endpoint_group", {"type": "subnet", "endpoints": [subnet]}
    )
    for _ in range(15):
        peer = api.create(
            "vpn/endpoint-groups",
            "endpoint_group",
            {"type": "cidr", "endpoints": ["10.131.0.0/24"]},
        )
        body = _connection(service, ike, ipsec)
        body["ipsec_site_connection"].update(
            peer_cidrs=[], local_ep_group_id=local, peer_ep_group_id=peer
        )
        create, delete = _race(
            partial(api.call, "POST", "vpn/ipsec-site-connections", body),
            partial(api.call, "DELETE", f"vpn/endpoint-groups/{peer}"),
        )
        assert {create.status, delete.status} in ({201, 400}, {404, 204}), (create, delete)


REFERENCES = {
    "ipsec_site_connections": (
        "vpnservice_id",
        "ikepolicy_id",
        "ipsecpolicy_id",
        "local_ep_group_id",
        "peer_ep_group_id",
    ),
    "vpnservices": ("router_id", "subnet_id"),
    "subnets": ("network_id",),
}
TARGETS = {
    "vpnservice_id": "vpnservices",
    "ikepolicy_id": "ikepolicies",
    "ipsecpolicy_id": "ipsecpolicies",
    "local_ep_group_id": "endpoint_groups",
    "peer_ep_group_id": "endpoint_groups",
    "router_id": "routers",
    "subnet_id": "subnets",
    "network_id": "networks",
}


def _dangling(database_url: str) -> dict[str, int]:
    """Rows whose reference names no existing row, counted per reference."""
    engine = sa.create_engine(database_url)
    found: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            for table, columns in REFERENCES.items():
                for column in columns:
                    target = TARGETS[column]
                    count = conn.scalar(
                        sa.text(
                            f"SELECT COUNT(*) FROM {table} t LEFT JOIN {target} r "
                            f"ON t.{column} = r.id WHERE t.{column} IS NOT NULL AND r.id IS NULL"
                        )
                    )
                    if count:
                        found[f"{table}.{column}"] = int(count)
    finally:
        engine.dispose()
    return found
