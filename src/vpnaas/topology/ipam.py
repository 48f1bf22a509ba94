"""Address arithmetic for subnets: default gateways, allocation pools, the next
free address (``docs/api/subnets.md`` §gateway, §pools). Pure functions; the
errors they raise are Neutron's."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from vpnaas import errors

__all__ = [
    "Network",
    "default_gateway",
    "default_pools",
    "first_free",
    "in_pools",
    "pool_text",
    "validate_pools",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _text(version: int, number: int) -> str:
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return str(cls(number))


def _number(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address)
    return ip.version, int(ip)


def default_gateway(net: Network) -> str:
    """IPv4: the first host; IPv6: the subnet-router anycast (network) address."""
    if net.version == 6 or net.prefixlen >= 31:
        return str(net.network_address)
    return str(net.network_address + 1)


def _usable(net: Network) -> tuple[int, int]:
    """The range pools may cover: IPv4 without network and broadcast address
    (up to /30), IPv6 without the network address."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen <= 30:
        return first + 1, last - 1
    if net.version == 6 and net.prefixlen < 128:
        return first + 1, last
    return first, last


def default_pools(net: Network, gateway: str | None) -> list[dict[str, str]]:
    """The usable range minus the gateway (possibly split in two pools)."""
    start, end = _usable(net)
    text = _text
    if gateway is None or _number(gateway)[0] != net.version:
        return [{"start": text(net.version, start), "end": text(net.version, end)}]
    gw = _number(gateway)[1]
    if not start <= gw <= end:
        return [{"start": text(net.version, start), "end": text(net.version, end)}]
    pools = []
    if start < gw:
        pools.append({"start": text(net.version, start), "end": text(net.version, gw - 1)})
    if gw < end:
        pools.append({"start": text(net.version, gw + 1), "end": text(net.version, end)})
    return pools


def pool_text(pool: dict[str, Any]) -> str:
    return f"{pool['start']}-{pool['end']}"


def _bounds(pool: dict[str, Any], version: int) -> tuple[int, int]:
    try:
        start_version, start = _number(pool["start"])
        end_version, end = _number(pool["end"])
    except (ValueError, KeyError, TypeError):
        raise errors.InvalidAllocationPool(pool=pool) from None
    if start_version != version or end_version != version or start > end:
        raise errors.InvalidAllocationPool(pool=pool_text(pool))
    return start, end


def validate_pools(
    net: Network, pools: Sequence[dict[str, Any]], gateway: str | None
) -> list[dict[str, str]]:
    """Check client-given pools; return them in canonical form."""
    low, high = _usable(net)
    ranges = []
    for pool in pools:
        start, end = _bounds(pool, net.version)
        if start < low or end > high:
            raise errors.OutOfBoundsAllocationPool(pool=pool_text(pool), cidr=str(net))
        ranges.append((start, end, pool))
    ordered = sorted(ranges, key=lambda r: r[0])
    for (_s1, e1, p1), (s2, _e2, p2) in itertools.pairwise(ordered):
        if s2 <= e1:
            raise errors.OverlappingAllocationPools(
                pool_1=pool_text(p1), pool_2=pool_text(p2), cidr=str(net)
            )
    if gateway:
        gw = _number(gateway)[1]
        for start, end, pool in ranges:
            if start <= gw <= end:
                raise errors.GatewayConflictWithAllocationPools(
                    ip_address=gateway, pool=pool_text(pool)
                )
    return [{"start": _text(net.version, s), "end": _text(net.version, e)} for s, e, _ in ranges]


def in_pools(address: str, pools: Iterable[dict[str, Any]]) -> bool:
    ip = _number(address)[1]
    return any(_number(p["start"])[1] <= ip <= _number(p["end"])[1] for p in pools)


def first_free(pools: Iterable[dict[str, Any]], used: set[str]) -> str | None:
    """The lowest pool address no port holds (deterministic, unlike the
    reference's random pick among the first free ones)."""
    taken = {_number(u) for u in used}
    for pool in pools:
        version, current = _number(pool["start"])
        end = _number(pool["end"])[1]
        while current <= end:
            if (version, current) not in taken:
                return _text(version, current)
            current += 1
    return None
