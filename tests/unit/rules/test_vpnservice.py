"""VPN services: the router the caller sees, with a gateway, the subnet on
it, the gateway's addresses recorded; frozen while pending, kept while used
(``docs/api/vpn-services.md`` §create, §update, §delete)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.unit.rules.conftest import PROJECT_B, World
from vpnaas import errors
from vpnaas.rules.vpnservice import VPNServiceRules, refuse_pending
from vpnaas.spec.vpn import PENDING_STATUSES


def _created(world: World, project: str = "", **values: Any) -> dict[str, Any]:
    """A new service run through the create hook (as ``project``, else A)."""
    owner = {"project": project} if project else {}
    obj = world.prepared("vpnservice", **owner, **values)
    with world.writing(**owner) as env:
        VPNServiceRules().on_create(env, obj)
    return obj


def test_vpnservice_records_the_gateways_first_v4_and_v6_addresses(world: World) -> None:
    obj = _created(world, router_id=world.ids["router"])
    router = world.stored("router", world.ids["router"])
    gateway = [ip["ip_address"] for ip in router["external_gateway_info"]["external_fixed_ips"]]
    assert obj["external_v4_ip"] in gateway
    assert obj["external_v6_ip"] in gateway
    assert ipaddress.ip_address(obj["external_v4_ip"]) in ipaddress.ip_network("172.24.4.0/24")
    assert ipaddress.ip_address(obj["external_v6_ip"]) in ipaddress.ip_network("2001:db8:24::/64")


def test_vpnservice_without_a_v6_gateway_address_records_none(world: World) -> None:
    obj = _created(world, router_id=world.ids["router_v4"])
    assert (obj["external_v4_ip"], obj["external_v6_ip"]) == ("172.24.4.200", None)


@pytest.mark.parametrize("subnet", ["subnet", "subnet_v6"])
def test_vpnservice_accepts_a_subnet_on_its_router(world: World, subnet: str) -> None:
    obj = _created(world, router_id=world.ids["router"], subnet_id=world.ids[subnet])
    assert obj["subnet_id"] == world.ids[subnet]


@pytest.mark.parametrize(
    ("router", "subnet", "error"),
    [
        pytest.param("bare_router", None, errors.RouterIsNotExternal, id="no-gateway"),
        pytest.param("other_router", None, errors.RouterNotFound, id="another-projects-router"),
        pytest.param(
            "router", "subnet_detached", errors.SubnetIsNotConnectedToRouter, id="detached-subnet"
        ),
        pytest.param(
            "router_v4", "subnet", errors.SubnetIsNotConnectedToRouter, id="subnet-of-other-router"
        ),
        pytest.param(
            "router", "public_subnet", errors.SubnetIsNotConnectedToRouter, id="gateway-subnet"
        ),
    ],
)
def test_vpnservice_refuses(
    world: World, router: str, subnet: str | None, error: type[errors.ApiError]
) -> None:
    if subnet == "public_subnet":
        public = world.call("GET", f"subnets?network_id={world.ids['public']}&ip_version=4")
        subnet_id = public["subnets"][0]["id"]
    else:
        subnet_id = None if subnet is None else world.ids[subnet]
    with pytest.raises(error) as raised:
        _created(world, router_id=world.ids[router], subnet_id=subnet_id)
    assert world.ids[router] in raised.value.message


def test_vpnservice_the_owner_of_a_router_may_use_it(world: World) -> None:
    obj = _created(world, PROJECT_B, router_id=world.ids["other_router"])
    assert obj["external_v4_ip"] is not None


def test_vpnservice_flavors_are_refused_before_the_router_is_looked_up(world: World) -> None:
    with pytest.raises(errors.FlavorsPluginNotLoaded):
        # the router is not even visible: the flavor is refused first
        _created(world, router_id=world.ids["other_router"], flavor_id=world.ids["router"])


@pytest.mark.parametrize("status", sorted(PENDING_STATUSES))
def test_vpnservice_pending_cannot_be_updated(world: World, status: str) -> None:
    current = {**world.stored("vpnservice", world.service()), "status": status}
    with world.writing() as env, pytest.raises(errors.VPNStateInvalidToUpdate) as raised:
        VPNServiceRules().on_update(env, current, {"name": "renamed"})
    assert raised.value.message == (
        f"Invalid state {status} of vpnaas resource {current['id']} for updating"
    )


@pytest.mark.parametrize("status", ["ACTIVE", "DOWN", "ERROR"])
def test_vpnservice_settled_can_be_updated(world: World, status: str) -> None:
    current = {**world.stored("vpnservice", world.service()), "status": status}
    refuse_pending(current)
    with world.writing() as env:
        VPNServiceRules().on_update(env, current, {"name": "renamed"})


def test_vpnservice_with_a_connection_cannot_be_deleted(world: World) -> None:
    used, unused = world.service("router", "subnet"), world.service()
    world.connection(used, *world.policies())
    with world.writing() as env:
        VPNServiceRules().on_delete(env, world.stored("vpnservice", unused))
        with pytest.raises(errors.VPNServiceInUse) as raised:
            VPNServiceRules().on_delete(env, world.stored("vpnservice", used))
    assert raised.value.status == 409
