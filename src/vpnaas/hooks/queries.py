"""Questions about the core topology (routers, ports, subnets) that the VPN
rules ask of it, the answers from the core tables alone, and
:func:`ip_version`, which the rules and the driver use to compare addresses
with those answers."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa

from vpnaas.db.statements import Statement
from vpnaas.hooks import RuleEnv
from vpnaas.spec.core import DEVICE_OWNER_GATEWAY

__all__ = ["gateway_ips", "ip_version", "subnet_on_router"]


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


def ip_version(address_or_cidr: str) -> int:
    """4 or 6 for an address or a CIDR string."""
    if "/" in address_or_cidr:
        return ipaddress.ip_network(address_or_cidr, strict=False).version
    return ipaddress.ip_address(address_or_cidr).version
