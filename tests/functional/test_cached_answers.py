"""Cached answers follow writes to the rows they were built from, other
resources' rows included (issue 11 §1): each case primes the caches with the
same GET first, then writes, then asks again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from tests.support import matrix
from tests.support.matrix import ADMIN, OTHER, OWNER


@pytest.fixture
def world(tmp_path: Path) -> Iterator[matrix.World]:
    world = matrix.noauth_world(tmp_path)
    yield world
    world.close()


def _network(world: matrix.World) -> str:
    body = {"network": {"name": "net", "project_id": world.project_a}}
    return str(world.expect(ADMIN, "POST", "/v2.0/networks", 201, body)["network"]["id"])


def _subnet(world: matrix.World, network: str) -> str:
    body = {"subnet": {"network_id": network, "ip_version": 4, "cidr": "10.9.0.0/24"}}
    return str(world.expect(OWNER, "POST", "/v2.0/subnets", 201, body)["subnet"]["id"])


def _subnets_of(world: matrix.World, network: str) -> tuple[Any, Any]:
    shown = world.expect(OWNER, "GET", f"/v2.0/networks/{network}", 200)["network"]
    listed = world.expect(OWNER, "GET", "/v2.0/networks", 200)["networks"]
    (in_list,) = [n for n in listed if n["id"] == network]
    return shown["subnets"], in_list["subnets"]


def test_network_subnets_follow_subnet_create_and_delete(world: matrix.World) -> None:
    network = _network(world)
    assert _subnets_of(world, network) == ([], [])
    subnet = _subnet(world, network)
    assert _subnets_of(world, network) == ([subnet], [subnet])
    world.expect(OWNER, "DELETE", f"/v2.0/subnets/{subnet}", 204)
    assert _subnets_of(world, network) == ([], [])


def _other_sees(world: matrix.World, subnet: str) -> tuple[bool, int]:
    listed = world.expect(OTHER, "GET", "/v2.0/subnets", 200)["subnets"]
    shown = world.call(OTHER, "GET", f"/v2.0/subnets/{subnet}")
    return subnet in {s["id"] for s in listed}, shown.status_code


def test_subnets_of_a_network_follow_its_shared_flag(world: matrix.World) -> None:
    network = _network(world)
    subnet = _subnet(world, network)
    assert _other_sees(world, subnet) == (False, 404)
    world.expect(ADMIN, "PUT", f"/v2.0/networks/{network}", 200, {"network": {"shared": True}})
    assert _other_sees(world, subnet) == (True, 200)
    world.expect(ADMIN, "PUT", f"/v2.0/networks/{network}", 200, {"network": {"shared": False}})
    assert _other_sees(world, subnet) == (False, 404)


def test_subnet_network_attributes_follow_the_network(world: matrix.World) -> None:
    """The shared filter on subnets reads the network's flag too."""
    network = _network(world)
    subnet = _subnet(world, network)
    path = "/v2.0/subnets"
    assert world.expect(OWNER, "GET", path, 200, shared="true")["subnets"] == []
    world.expect(ADMIN, "PUT", f"/v2.0/networks/{network}", 200, {"network": {"shared": True}})
    found = world.expect(OWNER, "GET", path, 200, shared="true")["subnets"]
    assert subnet in {s["id"] for s in found}


def test_response_cache_off_keeps_no_answer(tmp_path: Path) -> None:
    """``response_cache = false``: every list and show is built afresh."""
    app, _public = matrix.serve(tmp_path, sections={"DEFAULT": {"response_cache": "false"}})
    client = testing.TestClient(app)
    try:
        for _ in range(2):
            listed = client.simulate_get("/v2.0/networks")
            assert listed.status_code == 200, listed.text
            network = listed.json["networks"][0]["id"]
            assert client.simulate_get(f"/v2.0/networks/{network}").status_code == 200
        assert len(app.controller.cache) == len(app.controller.shown) == 0
    finally:
        app.db.dispose()
