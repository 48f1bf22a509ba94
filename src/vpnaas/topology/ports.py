"""Ports: read-only over the API, created and removed by router actions.

A non-admin sees the ports of its project and every port on a network it owns
(``docs/api/ports.md`` §visibility). Addresses are unique per subnet (a
constraint of the ``ports_fixed_ips`` table), so two concurrent allocations of
one address cannot both succeed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.db.query import Clause
from vpnaas.db.tables import Schema
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.spec import Resource
from vpnaas.spec.core import ACTIVE, DEVICE_OWNER_INTERFACE
from vpnaas.topology import ipam

__all__ = [
    "PortRules",
    "allocate",
    "create_port",
    "fixed_ips_filter",
    "interface_ports",
    "used_addresses",
]


class PortRules(ResourceRules):
    def visibility(self, ctx: RequestContext, schema: Schema, res: Resource) -> Clause | None:
        ports = schema.table("port")
        networks = schema.table("network")
        own_networks = sa.select(networks.c.id).where(networks.c.project_id == ctx.project_id)
        return sa.or_(ports.c.project_id == ctx.project_id, ports.c.network_id.in_(own_networks))


def fixed_ips_filter(schema: Schema, values: Sequence[Any]) -> Clause:
    """``?fixed_ips=subnet_id=<id>`` / ``?fixed_ips=ip_address=<ip>``: ports
    having such an address (repeated values: any of them)."""
    fixed = schema.child("port", "fixed_ips")
    ports = schema.table("port")
    matches: list[Clause] = []
    for value in values:
        key, _, wanted = str(value).partition("=")
        if key in ("subnet_id", "ip_address"):
            matches.append(fixed.table.c[key] == wanted)
    if not matches:
        return sa.false()
    return ports.c.id.in_(sa.select(fixed.parent).where(sa.or_(*matches)))


def interface_ports(env: RuleEnv, router_id: str) -> list[dict[str, Any]]:
    """The router's interface ports, with their fixed IPs."""
    res = env.res("port")
    ports = env.schema.table("port")
    return env.repo.find(
        res, ports.c.device_id == router_id, ports.c.device_owner == DEVICE_OWNER_INTERFACE
    )


def used_addresses(env: RuleEnv, subnet_id: str, exclude_port: str | None = None) -> set[str]:
    fixed = env.schema.child("port", "fixed_ips")
    stmt = sa.select(fixed.table.c.ip_address).where(fixed.table.c.subnet_id == subnet_id)
    if exclude_port is not None:
        stmt = stmt.where(fixed.parent != exclude_port)
    return set(env.repo.conn.scalars(stmt))


def free_address(env: RuleEnv, subnet: dict[str, Any]) -> str | None:
    """The lowest pool address of ``subnet`` no port holds."""
    return ipam.first_free(subnet["allocation_pools"], used_addresses(env, subnet["id"]))


def allocate(env: RuleEnv, subnet: dict[str, Any], network_id: str) -> str:
    """``free_address``, or 409 when the pools are exhausted."""
    address = free_address(env, subnet)
    if address is None:
        raise errors.IpAddressGenerationFailure(net_id=network_id)
    return address


def claim(
    env: RuleEnv,
    subnet: dict[str, Any],
    address: str,
    network_id: str,
    exclude_port: str | None = None,
) -> None:
    """Refuse an address another port holds."""
    if address in used_addresses(env, subnet["id"], exclude_port):
        raise errors.IpAddressInUse(net_id=network_id, ip_address=address)


def _mac(env: RuleEnv) -> str:
    ports = env.schema.table("port")
    while True:
        mac = "fa:16:3e:" + ":".join(f"{secrets.randbelow(256):02x}" for _ in range(3))
        if not env.repo.exists(env.res("port"), ports.c.mac_address == mac):
            return mac


def create_port(
    env: RuleEnv,
    *,
    network_id: str,
    project_id: str,
    device_id: str,
    device_owner: str,
    fixed_ips: list[dict[str, str]],
) -> dict[str, Any]:
    """Store a new port and return it."""
    port = {
        "id": str(uuid.uuid4()),
        "project_id": project_id,
        "name": "",
        "description": "",
        "network_id": network_id,
        "mac_address": _mac(env),
        "admin_state_up": True,
        "status": ACTIVE,
        "device_id": device_id,
        "device_owner": device_owner,
        "fixed_ips": fixed_ips,
    }
    env.repo.insert(env.res("port"), port)
    return port
