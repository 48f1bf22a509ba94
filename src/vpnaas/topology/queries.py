"""Questions about routers, ports and subnets that VPN rules and topology
actions both ask."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.db.statements import Statement
from vpnaas.rules import RuleEnv
from vpnaas.spec.core import DEVICE_OWNER_GATEWAY, DEVICE_OWNER_INTERFACE

__all__ = [
    "gateway_ips",
    "interface_ports",
    "ip_version",
    "refuse_if_in_endpoint_group",
    "router_subnet_ids",
    "subnet_on_router",
]


def _fixed_ips(env: RuleEnv) -> Any:
    return env.schema.child("port", "fixed_ips")


def gateway_ips(env: RuleEnv, router_id: str) -> list[str]:
    """The fixed IPs of the router's gateway port, in stored order."""
    ports = env.schema.table("port")
    fixed = _fixed_ips(env)
    stmt = env.repo.prepared(
        Statement.QUERY,
        "gateway_ips",
        (),
        lambda: (
            sa.select(fixed.table.c.ip_address)
            .join(ports, ports.c.id == fixed.parent)
            .where(
                ports.c.device_id == sa.bindparam("router"),
                ports.c.device_owner == DEVICE_OWNER_GATEWAY,
            )
            .order_by(fixed.position)
        ),
    )
    return list(env.repo.conn.scalars(stmt, {"router": router_id}))


def subnet_on_router(env: RuleEnv, router_id: str, subnet_id: str) -> bool:
    """Whether a port the caller may see, with ``device_id`` the router, has an
    address on the subnet (``docs/api/vpn-services.md`` §create)."""
    port_res = env.res("port")
    ports = env.schema.table("port")
    fixed = _fixed_ips(env)
    where = [ports.c.device_id == router_id, fixed.table.c.subnet_id == subnet_id]
    clause = env.scope_of(port_res).condition(ports)
    if clause is not None:
        where.append(clause)
    stmt = sa.select(ports.c.id).join(fixed.table, fixed.parent == ports.c.id).where(*where)
    return env.repo.conn.execute(stmt.limit(1)).first() is not None


def interface_ports(env: RuleEnv, router_id: str) -> list[dict[str, Any]]:
    """The router's interface ports, with their fixed IPs."""
    res = env.res("port")
    ports = env.schema.table("port")
    return env.repo.find(
        res, ports.c.device_id == router_id, ports.c.device_owner == DEVICE_OWNER_INTERFACE
    )


def router_subnet_ids(env: RuleEnv, router_id: str) -> list[str]:
    """Subnets the router has an interface address on."""
    return [ip["subnet_id"] for port in interface_ports(env, router_id) for ip in port["fixed_ips"]]


def ip_version(address_or_cidr: str) -> int:
    """4 or 6 for an address or a CIDR string."""
    if "/" in address_or_cidr:
        return ipaddress.ip_network(address_or_cidr, strict=False).version
    return ipaddress.ip_address(address_or_cidr).version


def refuse_if_in_endpoint_group(env: RuleEnv, subnet_id: str) -> None:
    """A subnet named by a ``subnet`` endpoint group cannot go
    (``docs/api/subnets.md`` §delete: the reference reports the VPN
    callback's failure as ``SubnetInUse``)."""
    groups = env.schema.table("endpoint_group")
    endpoints = env.schema.child("endpoint_group", "endpoints")
    row = env.repo.conn.execute(
        sa.select(groups.c.id)
        .join(endpoints.table, endpoints.parent == groups.c.id)
        .where(groups.c.type == "subnet", endpoints.table.c.value == subnet_id)
        .limit(1)
    ).first()
    if row is not None:
        raise errors.SubnetInUse(
            subnet_id=subnet_id,
            reason=f'Callback vpnaas.endpoint_groups failed with "Subnet {subnet_id} is used '
            f'by endpoint group {row[0]}"',
        )
