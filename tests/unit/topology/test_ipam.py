"""Address arithmetic of subnets."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from vpnaas import errors
from vpnaas.topology import ipam


def net(cidr: str) -> ipam.Network:
    return ipaddress.ip_network(cidr)


@pytest.mark.parametrize(
    ("cidr", "gateway"),
    [
        pytest.param("10.0.0.0/24", "10.0.0.1", id="v4"),
        pytest.param("2001:db8::/64", "2001:db8::", id="v6-anycast"),
        pytest.param("10.0.0.0/31", "10.0.0.0", id="v4-31"),
    ],
)
def test_default_gateway(cidr: str, gateway: str) -> None:
    assert ipam.default_gateway(net(cidr)) == gateway


@pytest.mark.parametrize(
    ("cidr", "gateway", "pools"),
    [
        pytest.param("10.0.0.0/24", "10.0.0.1", [("10.0.0.2", "10.0.0.254")], id="gw-first"),
        pytest.param("10.0.0.0/24", "10.0.0.254", [("10.0.0.1", "10.0.0.253")], id="gw-last"),
        pytest.param(
            "10.0.0.0/24",
            "10.0.0.100",
            [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")],
            id="gw-split",
        ),
        pytest.param("10.0.0.0/24", None, [("10.0.0.1", "10.0.0.254")], id="no-gw"),
        pytest.param("10.0.0.0/24", "192.0.2.1", [("10.0.0.1", "10.0.0.254")], id="gw-outside"),
        pytest.param("2001::/64", "2001::", [("2001::1", "2001::ffff:ffff:ffff:ffff")], id="v6"),
        pytest.param("10.0.0.0/32", None, [("10.0.0.0", "10.0.0.0")], id="v4-32"),
    ],
)
def test_default_pools(cidr: str, gateway: str | None, pools: list[tuple[str, str]]) -> None:
    assert ipam.default_pools(net(cidr), gateway) == [{"start": s, "end": e} for s, e in pools]


@pytest.mark.parametrize(
    ("pools", "error"),
    [
        pytest.param(
            [{"start": "10.0.0.9", "end": "10.0.0.2"}], errors.InvalidAllocationPool, id="reversed"
        ),
        pytest.param(
            [{"start": "2001::1", "end": "2001::2"}],
            errors.InvalidAllocationPool,
            id="wrong-version",
        ),
        pytest.param(
            [{"start": "10.0.0.0", "end": "10.0.0.5"}],
            errors.OutOfBoundsAllocationPool,
            id="network-address",
        ),
        pytest.param(
            [{"start": "10.0.0.2", "end": "10.0.0.9"}, {"start": "10.0.0.5", "end": "10.0.0.20"}],
            errors.OverlappingAllocationPools,
            id="overlap",
        ),
        pytest.param(
            [{"start": "10.0.0.1", "end": "10.0.0.9"}],
            errors.GatewayConflictWithAllocationPools,
            id="gateway-inside",
        ),
    ],
)
def test_bad_pools(pools: list[dict[str, Any]], error: type[errors.ApiError]) -> None:
    with pytest.raises(error):
        ipam.validate_pools(net("10.0.0.0/24"), pools, "10.0.0.1")


def test_first_free_skips_used_addresses() -> None:
    pools = [{"start": "10.0.0.2", "end": "10.0.0.4"}]
    assert ipam.first_free(pools, {"10.0.0.2"}) == "10.0.0.3"
    assert ipam.first_free(pools, {"10.0.0.2", "10.0.0.3", "10.0.0.4"}) is None
