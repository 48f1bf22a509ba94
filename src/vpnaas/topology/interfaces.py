"""``add_router_interface`` and ``remove_router_interface``
(``docs/api/routers.md`` §add-interface, §remove-interface): the handlers of
the router's member actions. The controller finds the router as the caller
sees it, locks and authorizes it before a handler runs; the guards of
§vpn-protection run before an interface goes."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.hooks import ActionHandler, RuleEnv
from vpnaas.spec.core import DEVICE_OWNER_INTERFACE
from vpnaas.spec.kinds import canonical_uuid
from vpnaas.topology import ports
from vpnaas.topology.ports import interface_ports
from vpnaas.topology.routers import bad_router

__all__ = ["add_interface", "interface_actions", "remove_interface"]


def _ids(body: Any, *, allow_both: bool) -> tuple[str | None, str | None]:
    """``subnet_id`` and ``port_id`` from a bare (unwrapped) body."""
    if not isinstance(body, dict) or not ({"subnet_id", "port_id"} & body.keys()):
        raise bad_router("Either subnet_id or port_id must be specified")
    found: list[str | None] = []
    for key in ("subnet_id", "port_id"):
        value = body.get(key)
        if key in body and canonical_uuid(value) is None:
            raise bad_router(f"'{value}' is not a valid UUID")
        found.append(canonical_uuid(value) if key in body else None)
    if not allow_both and found[0] and found[1]:
        raise bad_router("Cannot specify both subnet-id and port-id")
    return found[0], found[1]


def _answer(router_id: str, port: dict[str, Any], subnet_ids: list[str]) -> dict[str, Any]:
    return {
        "id": router_id,
        "project_id": port["project_id"],
        "port_id": port["id"],
        "network_id": port["network_id"],
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
    }


def add_interface(env: RuleEnv, router: dict[str, Any], body: Any) -> dict[str, Any]:
    subnet_id, port_id = _ids(body, allow_both=False)
    if port_id is not None:
        port = env.lookup("port", port_id)
        raise errors.PortInUse(
            port_id=port_id, net_id=port["network_id"], device_id=port["device_id"]
        )
    assert subnet_id is not None
    subnet = env.lookup("subnet", subnet_id)
    _check_attachable(env, router, subnet)
    existing = _ipv6_port_to_join(env, router["id"], subnet)
    fixed = {"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}
    ports.claim(env, subnet, subnet["gateway_ip"], subnet["network_id"])
    if existing is not None:
        env.repo.update(
            env.res("port"), existing["id"], {"fixed_ips": [*existing["fixed_ips"], fixed]}
        )
        return _answer(router["id"], existing, [subnet["id"]])
    port = ports.create_port(
        env,
        network_id=subnet["network_id"],
        project_id=router["project_id"],
        device_id=router["id"],
        device_owner=DEVICE_OWNER_INTERFACE,
        fixed_ips=[fixed],
    )
    return _answer(router["id"], port, [subnet["id"]])


def _check_attachable(env: RuleEnv, router: dict[str, Any], subnet: dict[str, Any]) -> None:
    if subnet["gateway_ip"] is None:
        raise bad_router("Subnet for router interface must have a gateway IP")
    if not env.ctx.unscoped and subnet["project_id"] != env.ctx.project_id:
        raise bad_router(
            f"Cannot add interface to router because subnet {subnet['id']} is not "
            "owned by project making the request"
        )
    if (
        subnet["ip_version"] == 6
        and subnet["ipv6_ra_mode"] is None
        and subnet["ipv6_address_mode"] is not None
    ):
        raise bad_router(
            f"IPv6 subnet {subnet['id']} configured to receive RAs from an "
            "external router cannot be added to Neutron Router"
        )
    attached = _router_subnets(env, router)
    if any(other["id"] == subnet["id"] for other in attached):
        raise bad_router(f"Router already has a port on subnet {subnet['id']}")
    new = ipaddress.ip_network(subnet["cidr"])
    for other in attached:
        if ipaddress.ip_network(other["cidr"]).overlaps(new):
            raise bad_router(
                f"Cidr {subnet['cidr']} of subnet {subnet['id']} overlaps with cidr "
                f"{other['cidr']} of subnet {other['id']}"
            )


def _router_subnets(env: RuleEnv, router: dict[str, Any]) -> list[dict[str, Any]]:
    """Subnets of the router's interfaces and of its gateway's network."""
    subnet_res = env.res("subnet")
    subnets = env.schema.table("subnet")
    ids = {
        ip["subnet_id"] for port in interface_ports(env, router["id"]) for ip in port["fixed_ips"]
    }
    where: sa.ColumnElement[bool] = subnets.c.id.in_(ids)
    if router["gw_network_id"] is not None:
        where = sa.or_(where, subnets.c.network_id == router["gw_network_id"])
    return env.repo.find(subnet_res, where)


def _ipv6_port_to_join(
    env: RuleEnv, router_id: str, subnet: dict[str, Any]
) -> dict[str, Any] | None:
    if subnet["ip_version"] != 6:
        return None
    for port in interface_ports(env, router_id):
        if port["network_id"] == subnet["network_id"] and any(
            ipaddress.ip_address(ip["ip_address"]).version == 6 for ip in port["fixed_ips"]
        ):
            return port
    return None


def remove_interface(env: RuleEnv, router: dict[str, Any], body: Any) -> dict[str, Any]:
    subnet_id, port_id = _ids(body, allow_both=True)
    if port_id is not None:
        return _remove_port(env, router, port_id, subnet_id)
    assert subnet_id is not None
    subnet = env.lookup("subnet", subnet_id)
    attached = interface_ports(env, router["id"])
    if any(p["network_id"] == subnet["network_id"] for p in attached):
        env.guards.removing_interface(env, router["id"], subnet["id"])
    for port in attached:
        remaining = [ip for ip in port["fixed_ips"] if ip["subnet_id"] != subnet["id"]]
        if len(remaining) == len(port["fixed_ips"]):
            continue
        if remaining:
            env.repo.update(env.res("port"), port["id"], {"fixed_ips": remaining})
        else:
            env.repo.delete(env.res("port"), port["id"])
        return _answer(router["id"], port, [subnet["id"]])
    raise errors.RouterInterfaceNotFoundForSubnet(router_id=router["id"], subnet_id=subnet_id)


def _remove_port(
    env: RuleEnv, router: dict[str, Any], port_id: str, subnet_id: str | None
) -> dict[str, Any]:
    port = next((p for p in interface_ports(env, router["id"]) if p["id"] == port_id), None)
    if port is None:
        raise errors.RouterInterfaceNotFound(router_id=router["id"], port_id=port_id)
    subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
    if subnet_id is not None and subnet_id not in subnet_ids:
        raise errors.SubnetMismatchForPort(port_id=port_id, subnet_id=subnet_id)
    for sid in subnet_ids:
        env.guards.removing_interface(env, router["id"], sid)
    env.repo.delete(env.res("port"), port_id)
    return _answer(router["id"], port, subnet_ids)


def interface_actions() -> dict[tuple[str, str], ActionHandler]:
    """The handlers of the router's two member actions."""
    return {
        ("router", "add_router_interface"): add_interface,
        ("router", "remove_router_interface"): remove_interface,
    }
