"""What VPN objects protect in the core topology (``docs/api/routers.md``
§vpn-protection, ``docs/api/subnets.md`` §delete): the guards the topology
runs before a subnet, a router's gateway or a router's interface goes,
called directly on the module's topology."""

from __future__ import annotations

import pytest

from tests.unit.rules.conftest import PROJECT_A, PROJECT_B, World
from vpnaas import errors
from vpnaas.rules.guards import (
    refuse_if_in_endpoint_group,
    refuse_if_vpn_on_router,
    refuse_if_vpn_uses,
)


def test_a_subnet_named_by_an_endpoint_group_cannot_go(world: World) -> None:
    subnet = world.ids["subnet_detached"]
    with world.writing() as env:
        refuse_if_in_endpoint_group(env, subnet)  # no group names it yet
    group = world.group("subnet", "subnet_detached")
    with world.writing() as env, pytest.raises(errors.SubnetInUse) as raised:
        refuse_if_in_endpoint_group(env, subnet)
    assert raised.value.status == 409
    assert f"Subnet {subnet} is used by endpoint group {group}" in raised.value.message


def test_a_router_its_callers_vpn_service_uses_keeps_its_gateway(world: World) -> None:
    router = world.ids["router_v4"]
    service = world.service("router_v4")
    with world.writing() as env, pytest.raises(errors.RouterInUse) as raised:
        refuse_if_vpn_on_router(env, router)
    assert raised.value.status == 409
    assert raised.value.message.startswith(f"Router {router} is currently used by VPN service")
    assert service in raised.value.message
    with world.writing(PROJECT_B) as env:
        refuse_if_vpn_on_router(env, router)  # a service the caller cannot see
    with world.writing() as env:
        refuse_if_vpn_on_router(env, world.ids["bare_router"])


def test_a_services_own_subnet_keeps_its_interface_for_every_project(world: World) -> None:
    router, subnet = world.ids["router"], world.ids["subnet"]
    service = world.service("router", "subnet")
    for project in (PROJECT_A, PROJECT_B):
        with world.writing(project) as env, pytest.raises(errors.SubnetInUseByVPNService) as raised:
            refuse_if_vpn_uses(env, router, subnet)
        assert raised.value.message == f"Subnet {subnet} is used by VPNService {service}"


def test_a_local_endpoint_subnet_keeps_its_interface(world: World) -> None:
    router, subnet = world.ids["router_v4"], world.ids["subnet_r4"]
    with world.writing() as env:
        refuse_if_vpn_uses(env, router, subnet)  # no connection uses it yet
    conn = world.connection(
        world.service("router_v4"),
        *world.policies(),
        peer_cidrs=[],
        local_ep_group_id=world.group("subnet", "subnet_r4"),
        peer_ep_group_id=world.group("cidr", "10.95.0.0/24"),
    )
    with world.writing() as env, pytest.raises(errors.SubnetInUseByIPsecSiteConnection) as raised:
        refuse_if_vpn_uses(env, router, subnet)
    assert raised.value.message == f"Subnet {subnet} is used by ipsec site connection {conn}"
