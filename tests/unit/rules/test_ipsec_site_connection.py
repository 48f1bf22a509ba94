"""IPsec site connections: the references in the reference's order, legacy
or endpoint-group mode, one IP version a side, DPD and MTU, and updates
checked on the merged values (``docs/api/ipsec-site-connections.md``
§create, §modes, §endpoint-groups, §legacy, §dpd-mtu, §update)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules.conftest import PROJECT_B, World, connection_doc
from vpnaas import errors
from vpnaas.rules.ipsec_site_connection import ConnectionRules
from vpnaas.spec.vpn import PENDING_STATUSES

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _new(world: World, service: str, **values: Any) -> dict[str, Any]:
    """A new connection of project A on ``service`` with fresh policies."""
    return world.prepared(
        "ipsec_site_connection", **connection_doc(service, *world.policies(), **values)
    )


def _create(world: World, obj: dict[str, Any]) -> dict[str, Any]:
    with world.writing() as env:
        ConnectionRules().on_create(env, obj)
    return obj


def _refused(world: World, obj: dict[str, Any], error: type[errors.ApiError]) -> str:
    with pytest.raises(error) as raised:
        _create(world, obj)
    return raised.value.message


@pytest.fixture(scope="module")
def legacy(world: World) -> str:
    """A service with the IPv4 subnet: legacy mode."""
    return world.service("router", "subnet")


@pytest.fixture(scope="module")
def grouped(world: World) -> str:
    """A service without a subnet: endpoint-group mode."""
    return world.service("router")


# --- the order of the references (§create) ----------------------------------------


def test_connection_unknown_service_is_refused_before_the_policies(world: World) -> None:
    obj = _new(world, UNKNOWN, ipsecpolicy_id=UNKNOWN)
    assert (
        _refused(world, obj, errors.VPNServiceNotFound)
        == f"VPNService {UNKNOWN} could not be found"
    )


def test_connection_ah_esp_is_refused_before_another_projects_service(world: World) -> None:
    foreign = world.service("other_router", project=PROJECT_B)
    _, ah_esp = world.policies(transform_protocol="ah-esp")
    message = _refused(
        world, _new(world, foreign, ipsecpolicy_id=ah_esp), errors.IpsecValidationFailure
    )
    assert message == (
        "IPSec does not support IPsec Policy attribute transform_protocol with value 'ah-esp'"
    )
    assert _refused(world, _new(world, foreign), errors.VPNServiceNotFound)


def test_connection_policies_are_those_the_caller_sees(world: World, legacy: str) -> None:
    ike_b, ipsec_b = world.policies(PROJECT_B)
    obj = _new(world, legacy, peer_cidrs=["10.99.0.0/24"], ipsecpolicy_id=ipsec_b)
    assert ipsec_b in _refused(world, obj, errors.IPsecPolicyNotFound)
    obj = _new(world, legacy, peer_cidrs=["10.99.0.0/24"], ikepolicy_id=ike_b)
    assert ike_b in _refused(world, obj, errors.IKEPolicyNotFound)


# --- modes (§modes, §legacy) ------------------------------------------------------


def test_connection_legacy_mode_is_accepted(world: World, legacy: str) -> None:
    obj = _create(world, _new(world, legacy, peer_cidrs=["10.99.0.0/24", "10.98.0.0/16"]))
    assert obj["peer_address"] == "198.51.100.7"


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        pytest.param({}, errors.MissingPeerCidrs, None, id="no-peer-cidrs"),
        pytest.param(
            {"local_ep_group_id": UNKNOWN}, errors.InvalidEndpointGroup, "group local", id="local"
        ),
        pytest.param(
            {"peer_ep_group_id": UNKNOWN}, errors.InvalidEndpointGroup, "group peer", id="peer"
        ),
        pytest.param(
            {"local_ep_group_id": UNKNOWN, "peer_ep_group_id": UNKNOWN},
            errors.InvalidEndpointGroup,
            "groups local and peer",
            id="both",
        ),
        pytest.param(
            {"peer_cidrs": ["10.99.0.0/24", "2001:db8:99::/64"]},
            errors.MixedIPVersionsForPeerCidrs,
            None,
            id="mixed-peer-cidrs",
        ),
        pytest.param(
            {"peer_cidrs": ["2001:db8:99::/64"]},
            errors.MixedIPVersionsForIPSecConnection,
            None,
            id="peer-v6-subnet-v4",
        ),
    ],
)
def test_connection_legacy_mode_refuses(
    world: World,
    legacy: str,
    values: dict[str, Any],
    error: type[errors.ApiError],
    message: str | None,
) -> None:
    if "local_ep_group_id" in values or "peer_ep_group_id" in values:
        values = {"peer_cidrs": ["10.99.0.0/24"], **values}
    found = _refused(world, _new(world, legacy, **values), error)
    assert message is None or message in found


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        pytest.param(
            {"peer_cidrs": ["10.99.0.0/24"]}, errors.PeerCidrsInvalid, None, id="peer-cidrs"
        ),
        pytest.param({}, errors.MissingRequiredEndpointGroup, "groups local and peer", id="none"),
        pytest.param(
            {"local": True}, errors.MissingRequiredEndpointGroup, "group peer", id="no-peer"
        ),
        pytest.param(
            {"peer": True}, errors.MissingRequiredEndpointGroup, "group local", id="no-local"
        ),
    ],
)
def test_connection_group_mode_needs_both_groups_and_no_cidrs(
    world: World,
    grouped: str,
    values: dict[str, Any],
    error: type[errors.ApiError],
    message: str | None,
) -> None:
    if values.pop("local", False):
        values["local_ep_group_id"] = world.group("subnet", "subnet")
    if values.pop("peer", False):
        values["peer_ep_group_id"] = world.group("cidr", "10.99.0.0/24")
    found = _refused(world, _new(world, grouped, **values), error)
    assert message is None or message in found


# --- endpoint groups (§endpoint-groups) --------------------------------------------


@pytest.mark.parametrize(
    ("local", "peer"),
    [
        pytest.param(("subnet",), ("10.99.0.0/24",), id="v4"),
        pytest.param(("subnet_v6",), ("2001:db8:99::/64",), id="v6"),
    ],
)
def test_connection_group_mode_is_accepted(
    world: World, grouped: str, local: tuple[str, ...], peer: tuple[str, ...]
) -> None:
    obj = _new(
        world,
        grouped,
        local_ep_group_id=world.group("subnet", *local),
        peer_ep_group_id=world.group("cidr", *peer),
    )
    assert _create(world, obj)["peer_cidrs"] == []


@pytest.mark.parametrize(
    ("local", "peer", "error", "message"),
    [
        pytest.param(
            ("cidr", "10.1.0.0/24"),
            ("cidr", "10.99.0.0/24"),
            errors.WrongEndpointGroupType,
            "type is 'cidr' and should be 'subnet'",
            id="local-not-subnets",
        ),
        pytest.param(
            ("subnet", "subnet"),
            ("subnet", "subnet_v6"),
            errors.WrongEndpointGroupType,
            "type is 'subnet' and should be 'cidr'",
            id="peer-not-cidrs",
        ),
        pytest.param(
            ("subnet", "subnet_detached"),
            ("cidr", "10.99.0.0/24"),
            errors.SubnetIsNotConnectedToRouter,
            "is not connected to Router",
            id="detached",
        ),
        pytest.param(
            ("subnet", "subnet_r4"),
            ("cidr", "10.99.0.0/24"),
            errors.SubnetIsNotConnectedToRouter,
            "is not connected to Router",
            id="other-router",
        ),
        pytest.param(
            ("subnet", "subnet", "subnet_v6"),
            ("cidr", "10.99.0.0/24"),
            errors.MixedIPVersionsForIPSecEndpoints,
            "do not have the same IP version",
            id="mixed-local",
        ),
        pytest.param(
            ("subnet", "subnet"),
            ("cidr", "10.99.0.0/24", "2001:db8:99::/64"),
            errors.MixedIPVersionsForIPSecEndpoints,
            "do not have the same IP version",
            id="mixed-peer",
        ),
        pytest.param(
            ("subnet", "subnet"),
            ("cidr", "2001:db8:99::/64"),
            errors.MixedIPVersionsForIPSecConnection,
            "not compatible",
            id="v4-to-v6",
        ),
    ],
)
def test_connection_group_mode_refuses(
    world: World,
    grouped: str,
    local: tuple[str, ...],
    peer: tuple[str, ...],
    error: type[errors.ApiError],
    message: str,
) -> None:
    local_id, peer_id = world.group(*local), world.group(*peer)
    obj = _new(world, grouped, local_ep_group_id=local_id, peer_ep_group_id=peer_id)
    found = _refused(world, obj, error)
    assert message in found
    if error is errors.MixedIPVersionsForIPSecEndpoints:
        # the group named is the one whose endpoints mix versions
        assert (local_id if len(local) > 2 else peer_id) in found


def test_connection_another_projects_group_is_not_found(world: World, grouped: str) -> None:
    foreign = world.group("cidr", "10.99.0.0/24", project=PROJECT_B)
    obj = _new(
        world, grouped, local_ep_group_id=world.group("subnet", "subnet"), peer_ep_group_id=foreign
    )
    assert foreign in _refused(world, obj, errors.VPNEndpointGroupNotFound)


# --- DPD and MTU (§dpd-mtu) --------------------------------------------------------


@pytest.mark.parametrize(("interval", "timeout"), [(30, 30), (60, 30)])
def test_connection_dpd_timeout_must_exceed_interval(
    world: World, legacy: str, interval: int, timeout: int
) -> None:
    dpd = {"interval": interval, "timeout": timeout}
    obj = _new(world, legacy, peer_cidrs=["10.99.0.0/24"], dpd=dpd)
    _refused(world, obj, errors.IPsecSiteConnectionDpdIntervalValueError)


@pytest.mark.parametrize(
    ("subnet", "peer", "low", "lowest"),
    [
        pytest.param("subnet", "10.99.0.0/24", 67, 68, id="v4"),
        pytest.param("subnet_v6", "2001:db8:99::/64", 1279, 1280, id="v6"),
    ],
)
def test_connection_mtu_minimum_follows_the_local_ip_version(
    world: World, subnet: str, peer: str, low: int, lowest: int
) -> None:
    service = world.service("router", subnet)
    version = 6 if lowest == 1280 else 4
    message = _refused(
        world, _new(world, service, peer_cidrs=[peer], mtu=low), errors.IPsecSiteConnectionMtuError
    )
    assert message == f"ipsec_site_connection MTU {low} is too small for ipv{version}"
    for mtu in (lowest, 0):
        assert _create(world, _new(world, service, peer_cidrs=[peer], mtu=mtu))["mtu"] == mtu


# --- update (§update) ---------------------------------------------------------------


def test_connection_update_checks_the_merged_values(world: World, legacy: str) -> None:
    conn = world.connection(legacy, *world.policies(), dpd={"interval": 30, "timeout": 120})
    current = world.stored("ipsec_site_connection", conn)
    rules = ConnectionRules()
    with world.writing() as env:
        rules.on_update(env, current, {"name": "renamed"})
        with pytest.raises(errors.IPsecSiteConnectionDpdIntervalValueError):
            rules.on_update(env, current, {"dpd": {**current["dpd"], "interval": 120}})
        with pytest.raises(errors.MissingPeerCidrs):
            rules.on_update(env, current, {"peer_cidrs": []})
        with pytest.raises(errors.MixedIPVersionsForIPSecConnection):
            rules.on_update(env, current, {"peer_cidrs": ["2001:db8:99::/64"]})


def test_connection_update_checks_the_mtu_only_when_sent(world: World, legacy: str) -> None:
    conn = world.connection(legacy, *world.policies())
    # a stored MTU below the minimum (written before the rule, say) does not block other changes
    current = {**world.stored("ipsec_site_connection", conn), "mtu": 60}
    with world.writing() as env:
        ConnectionRules().on_update(env, current, {"name": "renamed"})
        with pytest.raises(errors.IPsecSiteConnectionMtuError):
            ConnectionRules().on_update(env, current, {"mtu": 60})


@pytest.mark.parametrize("status", sorted(PENDING_STATUSES))
def test_connection_pending_refused_after_the_value_checks(
    world: World, legacy: str, status: str
) -> None:
    conn = world.connection(legacy, *world.policies())
    current = {**world.stored("ipsec_site_connection", conn), "status": status}
    with world.writing() as env:
        with pytest.raises(errors.VPNStateInvalidToUpdate):
            ConnectionRules().on_update(env, current, {"name": "renamed"})
        with pytest.raises(errors.MissingPeerCidrs):  # the value checks come first
            ConnectionRules().on_update(env, current, {"peer_cidrs": []})
