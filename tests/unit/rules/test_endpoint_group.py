"""Endpoint groups: endpoints present, unique and valid for the group's
type, subnets visible and stored canonical; a used group is kept
(``docs/api/endpoint-groups.md`` §create, §delete)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules.conftest import PROJECT_B, World
from vpnaas import errors
from vpnaas.rules.endpoint_group import EndpointGroupRules


def _created(world: World, group_type: str, endpoints: list[Any]) -> dict[str, Any]:
    obj = world.prepared("endpoint_group", name="g", type=group_type, endpoints=endpoints)
    with world.writing() as env:
        EndpointGroupRules().on_create(env, obj)
    return obj


def _refused(world: World, group_type: str, endpoints: list[Any]) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as raised:
        _created(world, group_type, endpoints)
    assert raised.value.status == 400
    return raised.value


@pytest.mark.parametrize("group_type", ["cidr", "subnet", "network", "router", "vlan"])
def test_endpoint_group_needs_an_endpoint(world: World, group_type: str) -> None:
    error = _refused(world, group_type, [])
    assert isinstance(error, errors.MissingEndpointForEndpointGroup)
    assert error.message == "No endpoints specified for endpoint group 'g'"


@pytest.mark.parametrize(
    ("group_type", "endpoints"),
    [
        pytest.param("cidr", ["10.1.0.0/24", "10.2.0.0/24", "10.1.0.0/24"], id="cidr"),
        pytest.param("vlan", ["100", "100"], id="vlan"),
        pytest.param("network", ["x", "x"], id="network"),
    ],
)
def test_endpoint_group_endpoints_are_unique(
    world: World, group_type: str, endpoints: list[str]
) -> None:
    error = _refused(world, group_type, endpoints)
    assert isinstance(error, errors.InvalidEndpointInEndpointGroup)
    assert error.message.endswith("Endpoints have to be unique")


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("10.1.0.300/24", id="octet"),
        pytest.param("not-a-cidr", id="text"),
        pytest.param("10.1.0.0/33", id="v4-prefix"),
        pytest.param("fe80::/129", id="v6-prefix"),
    ],
)
def test_endpoint_group_cidr_endpoints_are_cidrs(world: World, bad: str) -> None:
    error = _refused(world, "cidr", ["10.1.0.0/24", bad])
    assert isinstance(error, errors.InvalidEndpointInEndpointGroup)
    assert error.message == f"Endpoint '{bad}' is invalid for group type 'cidr': Invalid CIDR"


def test_endpoint_group_cidr_endpoints_of_both_versions_are_kept(world: World) -> None:
    """IP versions are the connection's business, not the group's."""
    obj = _created(world, "cidr", ["10.1.0.0/24", "2001:db8:1::/64"])
    assert obj["endpoints"] == ["10.1.0.0/24", "2001:db8:1::/64"]


def test_endpoint_group_subnet_endpoints_are_stored_canonical(world: World) -> None:
    subnet, subnet_v6 = world.ids["subnet"], world.ids["subnet_v6"]
    obj = _created(world, "subnet", [subnet.upper(), "{" + subnet_v6 + "}"])
    assert obj["endpoints"] == [subnet, subnet_v6]


@pytest.mark.parametrize(
    ("endpoint", "error", "why"),
    [
        pytest.param(
            "not-a-uuid", errors.InvalidEndpointInEndpointGroup, "Invalid UUID", id="uuid"
        ),
        pytest.param(
            "00000000-0000-4000-8000-000000000000",
            errors.NonExistingSubnetInEndpointGroup,
            None,
            id="unknown",
        ),
        pytest.param("other_subnet", errors.NonExistingSubnetInEndpointGroup, None, id="foreign"),
    ],
)
def test_endpoint_group_subnet_endpoints_are_subnets_the_caller_sees(
    world: World, endpoint: str, error: type[errors.ApiError], why: str | None
) -> None:
    endpoint = world.ids.get(endpoint, endpoint)
    refused = _refused(world, "subnet", [world.ids["subnet"], endpoint])
    assert isinstance(refused, error)
    assert endpoint in refused.message
    if why is not None:
        assert refused.message.endswith(why)


@pytest.mark.parametrize("group_type", ["network", "router", "vlan"])
def test_endpoint_group_other_types_keep_endpoints_as_given(world: World, group_type: str) -> None:
    endpoints = ["anything", "00000000-0000-4000-8000-000000000000", "100"]
    assert _created(world, group_type, endpoints)["endpoints"] == endpoints


@pytest.mark.parametrize("side", ["local_ep_group_id", "peer_ep_group_id"])
def test_endpoint_group_used_by_a_connection_cannot_be_deleted(world: World, side: str) -> None:
    local, peer = world.group("subnet", "subnet"), world.group("cidr", "10.99.0.0/24")
    unused = world.group("cidr", "10.98.0.0/24")
    world.connection(
        world.service(),
        *world.policies(),
        peer_cidrs=[],
        local_ep_group_id=local,
        peer_ep_group_id=peer,
    )
    used = local if side == "local_ep_group_id" else peer
    with world.writing() as env:
        EndpointGroupRules().on_delete(env, world.stored("endpoint_group", unused))
        with pytest.raises(errors.EndpointGroupInUse) as raised:
            EndpointGroupRules().on_delete(env, world.stored("endpoint_group", used))
    assert raised.value.status == 400
    assert used in raised.value.message


def test_endpoint_group_used_by_another_projects_connection_is_in_use(world: World) -> None:
    """The guard counts connections of every project, not the caller's."""
    mine = world.group("cidr", "10.97.0.0/24")
    theirs = world.group("cidr", "10.96.0.0/24", project=PROJECT_B)
    local = world.group("subnet", "other_subnet", project=PROJECT_B)
    world.connection(
        world.service("other_router", project=PROJECT_B),
        *world.policies(PROJECT_B),
        PROJECT_B,
        peer_cidrs=[],
        local_ep_group_id=local,
        peer_ep_group_id=theirs,
    )
    with world.writing() as env:
        EndpointGroupRules().on_delete(env, world.stored("endpoint_group", mine))
        with pytest.raises(errors.EndpointGroupInUse):
            EndpointGroupRules().on_delete(env, world.stored("endpoint_group", theirs))
