"""Routers: the external gateway (a port with addresses on an external
network) and what blocks its removal (``docs/api/routers.md`` §gateway,
§delete, §vpn-protection)."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.db.repo import Repo
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.spec.core import DEVICE_OWNER_GATEWAY
from vpnaas.topology import ports
from vpnaas.topology.ports import interface_ports

__all__ = ["RouterRules", "bad_router", "load_gateway_info"]

GATEWAY = "external_gateway_info"


def bad_router(msg: str) -> errors.BadRequest:
    return errors.BadRequest(resource="router", msg=msg)


def load_gateway_info(repo: Repo, objs: list[dict[str, Any]]) -> None:
    """``external_gateway_info`` from the stored network, SNAT flag and the
    gateway port's addresses (``null`` without a gateway)."""
    port_table = repo.schema.table("port")
    fixed = repo.schema.child("port", "fixed_ips")
    ids = [obj["id"] for obj in objs if obj.get("gw_network_id")]
    addresses: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
    if ids:
        rows = repo.conn.execute(
            sa.select(port_table.c.device_id, fixed.table.c.subnet_id, fixed.table.c.ip_address)
            .join(fixed.table, fixed.parent == port_table.c.id)
            .where(
                port_table.c.device_owner == DEVICE_OWNER_GATEWAY, port_table.c.device_id.in_(ids)
            )
            .order_by(port_table.c.device_id, fixed.position)
        )
        for router_id, subnet_id, ip in rows:
            addresses[router_id].append({"subnet_id": subnet_id, "ip_address": ip})
    for obj in objs:
        if obj.get("gw_network_id"):
            obj[GATEWAY] = {
                "network_id": obj["gw_network_id"],
                "enable_snat": obj.get("enable_snat", True),
                "external_fixed_ips": addresses[obj["id"]],
            }
        else:
            obj[GATEWAY] = None


def _gateway_port(env: RuleEnv, router_id: str) -> dict[str, Any] | None:
    table = env.schema.table("port")
    found = env.repo.find(
        env.res("port"),
        table.c.device_id == router_id,
        table.c.device_owner == DEVICE_OWNER_GATEWAY,
    )
    return found[0] if found else None


class RouterRules(ResourceRules):
    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        info = obj.get(GATEWAY)
        if info:
            self._attach(env, obj, info)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        if GATEWAY not in changes:
            return
        info = changes[GATEWAY] or None
        old_network = current["gw_network_id"]
        if info and info["network_id"] == old_network:
            changes["enable_snat"] = info.get("enable_snat", True)
            if "external_fixed_ips" in info:
                port = _gateway_port(env, current["id"])
                assert port is not None
                fixed = self._addresses(env, current, info, exclude_port=port["id"])
                env.repo.update(env.res("port"), port["id"], {"fixed_ips": fixed})
            return
        if old_network is not None:
            env.guards.removing_gateway(env, current["id"])
            port = _gateway_port(env, current["id"])
            if port is not None:
                env.repo.delete(env.res("port"), port["id"])
        changes["gw_network_id"] = None
        changes["enable_snat"] = True
        if info:
            self._attach(env, {**current, **changes}, info)
            changes["gw_network_id"] = info["network_id"]
            changes["enable_snat"] = info.get("enable_snat", True)

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        attached = [p["id"] for p in interface_ports(env, current["id"])]
        if attached:
            raise errors.RouterInUse(
                router_id=current["id"], reason=f"has ports still attached: {', '.join(attached)}"
            )
        if current["gw_network_id"] is not None:
            env.guards.removing_gateway(env, current["id"])
        port = _gateway_port(env, current["id"])
        if port is not None:
            env.repo.delete(env.res("port"), port["id"])

    # --- attaching a gateway -----------------------------------------------------

    def _attach(self, env: RuleEnv, router: dict[str, Any], info: dict[str, Any]) -> None:
        network = env.lookup("network", info["network_id"])
        if not network["router:external"]:
            raise bad_router(f"Network {network['id']} is not an external network")
        fixed = self._addresses(env, router, info)
        self._check_interface_overlap(env, router["id"], network["id"])
        ports.create_port(
            env,
            network_id=network["id"],
            project_id="",
            device_id=router["id"],
            device_owner=DEVICE_OWNER_GATEWAY,
            fixed_ips=fixed,
        )
        router["gw_network_id"] = network["id"]
        router["enable_snat"] = info.get("enable_snat", True)

    def _addresses(
        self,
        env: RuleEnv,
        router: dict[str, Any],
        info: dict[str, Any],
        exclude_port: str | None = None,
    ) -> list[dict[str, str]]:
        network_id = info["network_id"]
        subnets = env.repo.find(
            env.res("subnet"), env.schema.table("subnet").c.network_id == network_id
        )
        wanted = info.get("external_fixed_ips")
        if wanted is None:
            return self._automatic(env, subnets, network_id)
        fixed: list[dict[str, str]] = []
        for entry in wanted:
            fixed.append(self._requested(env, subnets, network_id, entry, exclude_port))
        return fixed

    @staticmethod
    def _automatic(
        env: RuleEnv, subnets: list[dict[str, Any]], network_id: str
    ) -> list[dict[str, str]]:
        """One IPv4 address (first subnet with room) and one IPv6 address."""
        fixed: list[dict[str, str]] = []
        v4 = [s for s in subnets if s["ip_version"] == 4]
        for subnet in v4:
            address = ports.free_address(env, subnet)
            if address is not None:
                fixed.append({"subnet_id": subnet["id"], "ip_address": address})
                break
        else:
            if v4:
                raise errors.IpAddressGenerationFailure(net_id=network_id)
        for subnet in subnets:
            if subnet["ip_version"] == 6 and subnet["ipv6_address_mode"] is None:
                fixed.append(
                    {
                        "subnet_id": subnet["id"],
                        "ip_address": ports.allocate(env, subnet, network_id),
                    }
                )
                break
        return fixed

    @staticmethod
    def _requested(
        env: RuleEnv,
        subnets: list[dict[str, Any]],
        network_id: str,
        entry: dict[str, Any],
        exclude_port: str | None,
    ) -> dict[str, str]:
        address = entry.get("ip_address")
        subnet = None
        if entry.get("subnet_id"):
            subnet = next((s for s in subnets if s["id"] == entry["subnet_id"]), None)
            if subnet is None:
                raise bad_router(f"Subnet {entry['subnet_id']} is not on network {network_id}")
        elif address:
            ip = ipaddress.ip_address(address)
            subnet = next((s for s in subnets if ip in ipaddress.ip_network(s["cidr"])), None)
            if subnet is None:
                raise bad_router(f"IP address {address} is not on network {network_id}")
        if subnet is None:
            raise bad_router("Each external fixed IP needs a subnet_id or an ip_address")
        if address is None:
            return {
                "subnet_id": subnet["id"],
                "ip_address": ports.allocate(env, subnet, network_id),
            }
        if address == subnet["gateway_ip"]:
            raise bad_router(f"External IP {address} is the same as the gateway IP")
        if ipaddress.ip_address(address) not in ipaddress.ip_network(subnet["cidr"]):
            raise bad_router(f"IP address {address} is not on subnet {subnet['id']}")
        ports.claim(env, subnet, address, network_id, exclude_port=exclude_port)
        return {"subnet_id": subnet["id"], "ip_address": address}

    @staticmethod
    def _check_interface_overlap(env: RuleEnv, router_id: str, network_id: str) -> None:
        external = env.repo.find(
            env.res("subnet"), env.schema.table("subnet").c.network_id == network_id
        )
        for port in interface_ports(env, router_id):
            for ip in port["fixed_ips"]:
                inner = env.repo.get(env.res("subnet"), ip["subnet_id"])
                if inner is None:
                    continue
                for ext in external:
                    if ipaddress.ip_network(inner["cidr"]).overlaps(
                        ipaddress.ip_network(ext["cidr"])
                    ):
                        raise bad_router(
                            f"Cidr {ext['cidr']} of subnet {ext['id']} overlaps with cidr "
                            f"{inner['cidr']} of subnet {inner['id']}"
                        )
