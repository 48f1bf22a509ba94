"""Subnets: CIDR, gateway, allocation pools, IPv6 modes, overlap and what blocks
a delete (``docs/api/subnets.md`` §create, §delete), in the reference's order."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.db.query import Clause
from vpnaas.db.repo import Repo
from vpnaas.db.tables import Schema
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.spec import Resource
from vpnaas.spec.core import DEVICE_OWNER_INTERFACE, MIN_MTU
from vpnaas.topology import ipam
from vpnaas.topology.networks import visible_networks

__all__ = ["SubnetRules", "load_network_attributes", "shared_filter"]

MAX_NAMESERVERS = 5
MAX_HOST_ROUTES = 20
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")


def _invalid(message: str) -> errors.InvalidInput:
    return errors.InvalidInput(error_message=message)


def shared_filter(schema: Schema, values: Sequence[Any]) -> Clause:
    """``?shared=``: subnets whose network's ``shared`` flag matches."""
    networks = schema.table("network")
    subnets = schema.table("subnet")
    return subnets.c.network_id.in_(sa.select(networks.c.id).where(networks.c.shared.in_(values)))


def load_network_attributes(repo: Repo, objs: list[dict[str, Any]]) -> None:
    """Hidden ``network:*`` attributes the read policy looks at."""
    networks = repo.schema.table("network")
    ids = {obj["network_id"] for obj in objs if "network_id" in obj}
    rows = repo.conn.execute(
        sa.select(
            networks.c.id, networks.c.project_id, networks.c.shared, networks.c.router_external
        ).where(networks.c.id.in_(ids))
    )
    found = {row[0]: row[1:] for row in rows}
    for obj in objs:
        project, shared, external = found.get(obj.get("network_id"), (None, False, False))
        obj["network:project_id"] = project
        obj["network:shared"] = shared
        obj["network:router:external"] = external


class SubnetRules(ResourceRules):
    def visibility(self, ctx: RequestContext, schema: Schema, res: Resource) -> Clause | None:
        networks = schema.table("network")
        subnets = schema.table("subnet")
        readable = sa.select(networks.c.id).where(visible_networks(ctx, schema))
        return sa.or_(subnets.c.project_id == ctx.project_id, subnets.c.network_id.in_(readable))

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        if "cidr" not in obj:
            raise errors.BadRequest(
                resource="subnets", msg="a subnetpool must be specified in the absence of a cidr"
            )
        net = self._network_of(obj)
        obj["cidr"] = str(net)
        self._check_dhcp(net, obj["enable_dhcp"])
        if "gateway_ip" not in obj:
            obj["gateway_ip"] = ipam.default_gateway(net)
        self._check_gateway(net, obj["gateway_ip"])
        self._check_extras(obj, net.version)
        self._check_ipv6_modes(obj, net)
        if obj["subnetpool_id"] is not None:
            raise errors.SubnetPoolNotFound(id=obj["subnetpool_id"])
        network = env.lookup("network", obj["network_id"], lock=True)
        if not env.ctx.unscoped and network["project_id"] != env.ctx.project_id:
            raise errors.PolicyNotAuthorized(action="rule:create_subnet")
        if "allocation_pools" in obj:
            obj["allocation_pools"] = ipam.validate_pools(
                net, obj["allocation_pools"], obj["gateway_ip"]
            )
        else:
            obj["allocation_pools"] = ipam.default_pools(net, obj["gateway_ip"])
        self._check_overlap(env, obj, net)
        if network["mtu"] < MIN_MTU[net.version]:
            raise errors.NetworkMTUSubnetConflict(net_id=network["id"], subnet_id=obj["id"])

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        net = ipaddress.ip_network(current["cidr"])
        merged = {**current, **changes}
        if "enable_dhcp" in changes:
            self._check_dhcp(net, merged["enable_dhcp"])
        if "gateway_ip" in changes:
            self._check_gateway(net, changes["gateway_ip"])
            self._gateway_not_held(env, current, changes["gateway_ip"])
        self._check_extras(merged, net.version, subnet_id=current["id"])
        if "allocation_pools" in changes:
            changes["allocation_pools"] = ipam.validate_pools(
                net, changes["allocation_pools"], merged["gateway_ip"]
            )
        elif (
            "gateway_ip" in changes
            and merged["gateway_ip"]
            and ipam.in_pools(merged["gateway_ip"], current["allocation_pools"])
        ):
            raise errors.GatewayConflictWithAllocationPools(
                ip_address=merged["gateway_ip"],
                pool=next(
                    ipam.pool_text(p)
                    for p in current["allocation_pools"]
                    if ipam.in_pools(merged["gateway_ip"], [p])
                ),
            )

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        env.guards.removing_subnet(env, current["id"])
        fixed = env.schema.child("port", "fixed_ips")
        held = env.repo.conn.execute(
            sa.select(fixed.parent).where(fixed.table.c.subnet_id == current["id"]).limit(1)
        ).first()
        if held is not None:
            raise errors.SubnetInUse(
                subnet_id=current["id"],
                reason="One or more ports have an IP allocation from this subnet",
            )

    # --- checks ------------------------------------------------------------------

    @staticmethod
    def _network_of(obj: dict[str, Any]) -> ipam.Network:
        given = obj["cidr"]
        net = ipaddress.ip_network(given, strict=False)
        if net.version != obj["ip_version"]:
            raise _invalid(f"cidr '{given}' does not match the ip_version '{obj['ip_version']}'")
        if net.prefixlen == 0:
            raise _invalid("0 is not allowed as CIDR prefix length")
        if net.version == 6 and net.network_address == ipaddress.IPv6Address("::"):
            raise _invalid("IPv6 subnet '::' is not supported")
        return net

    @staticmethod
    def _check_dhcp(net: ipam.Network, enable_dhcp: bool) -> None:
        if not enable_dhcp:
            return
        if net.prefixlen > (30 if net.version == 4 else 126):
            raise _invalid(
                "Subnet has a prefix length that is incompatible with DHCP service enabled"
            )
        if net.is_multicast:
            raise _invalid("Multicast IP subnet is not supported if enable_dhcp is True")
        if net.is_loopback:
            raise _invalid("Loopback IP subnet is not supported if enable_dhcp is True")
        if net.version == 4 and net.network_address == ipaddress.IPv4Address("0.0.0.0"):  # noqa: S104
            raise _invalid("First IP '0.0.0.0' of network is not supported if enable_dhcp is True")

    @staticmethod
    def _check_gateway(net: ipam.Network, gateway: str | None) -> None:
        if gateway is None:
            return
        ip = ipaddress.ip_address(gateway)
        if ip.version != net.version:
            raise _invalid(f"gateway_ip '{gateway}' does not match the ip_version '{net.version}'")
        if (
            net.version == 4
            and net.prefixlen < 31
            and ip in net
            and ip in (net.network_address, net.broadcast_address)
        ):
            raise _invalid("Gateway is not valid on subnet")

    @staticmethod
    def _check_extras(obj: dict[str, Any], version: int, subnet_id: str | None = None) -> None:
        ident = subnet_id or obj["cidr"]
        servers = obj["dns_nameservers"]
        if len(servers) > MAX_NAMESERVERS:
            raise errors.DNSNameServersExhausted(subnet_id=ident, quota=MAX_NAMESERVERS)
        for server in servers:
            if ipaddress.ip_address(server).version != version:
                raise _invalid(
                    f"DNS nameserver '{server}' does not match the ip_version '{version}'"
                )
        routes = obj["host_routes"]
        if len(routes) > MAX_HOST_ROUTES:
            raise errors.HostRoutesExhausted(subnet_id=ident, quota=MAX_HOST_ROUTES)
        for route in routes:
            dest = ipaddress.ip_network(route["destination"], strict=False)
            hop = ipaddress.ip_address(route["nexthop"])
            if dest.version != version or hop.version != version:
                raise _invalid(
                    f"Host route '{route['destination']}' via '{route['nexthop']}' "
                    f"does not match the ip_version '{version}'"
                )

    @staticmethod
    def _check_ipv6_modes(obj: dict[str, Any], net: ipam.Network) -> None:
        ra, addr = obj["ipv6_ra_mode"], obj["ipv6_address_mode"]
        if net.version == 4:
            for name, value in (("ipv6_ra_mode", ra), ("ipv6_address_mode", addr)):
                if value is not None:
                    raise _invalid(f"{name} is not valid when ip_version is 4")
            return
        if (ra or addr) and not obj["enable_dhcp"]:
            raise _invalid(
                "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False"
            )
        if ra and addr and ra != addr:
            raise _invalid(
                f"ipv6_ra_mode set to '{ra}' with ipv6_address_mode set to "
                f"'{addr}' is not valid. If both attributes are set, they must be "
                "the same value"
            )
        if (ra in AUTO_ADDRESS_MODES or addr in AUTO_ADDRESS_MODES) and net.prefixlen != 64:
            raise _invalid(
                f"Invalid CIDR {net} for IPv6 address mode. OpenStack uses the "
                "EUI-64 address format, which requires the prefix to be /64"
            )

    @staticmethod
    def _check_overlap(env: RuleEnv, obj: dict[str, Any], net: ipam.Network) -> None:
        subnets = env.schema.table("subnet")
        for other in env.repo.find(env.res("subnet"), subnets.c.network_id == obj["network_id"]):
            other_net = ipaddress.ip_network(other["cidr"])
            if other_net.version == net.version and other_net.overlaps(net):
                raise _invalid(
                    f"Requested subnet with cidr: {obj['cidr']} for network: "
                    f"{obj['network_id']} overlaps with another subnet"
                )

    @staticmethod
    def _gateway_not_held(env: RuleEnv, current: dict[str, Any], new_gateway: str | None) -> None:
        old = current["gateway_ip"]
        if old is None or old == new_gateway:
            return
        fixed = env.schema.child("port", "fixed_ips")
        ports = env.schema.table("port")
        row = env.repo.conn.execute(
            sa.select(ports.c.id)
            .join(fixed.table, fixed.parent == ports.c.id)
            .where(
                fixed.table.c.subnet_id == current["id"],
                fixed.table.c.ip_address == old,
                ports.c.device_owner == DEVICE_OWNER_INTERFACE,
            )
            .limit(1)
        ).first()
        if row is not None:
            raise errors.GatewayIpInUse(ip_address=old, port_id=row[0])
