"""What VPN objects protect in the core topology (``docs/api/routers.md``
§vpn-protection): the guards :class:`vpnaas.hooks.Guards` lets the topology
run before it removes a subnet, a router's gateway or a router's interface."""

from __future__ import annotations

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.hooks import Guards, RuleEnv
from vpnaas.spec.vpn import ENDPOINT_SUBNET

__all__ = [
    "refuse_if_in_endpoint_group",
    "refuse_if_vpn_on_router",
    "refuse_if_vpn_uses",
    "vpn_guards",
]


def vpn_guards() -> Guards:
    return Guards(
        subnet_removal=(refuse_if_in_endpoint_group,),
        gateway_removal=(refuse_if_vpn_on_router,),
        interface_removal=(refuse_if_vpn_uses,),
    )


def refuse_if_in_endpoint_group(env: RuleEnv, subnet_id: str) -> None:
    """A subnet named by a ``subnet`` endpoint group cannot go
    (``docs/api/subnets.md`` §delete: the reference reports the VPN
    callback's failure as ``SubnetInUse``)."""
    groups = env.schema.table("endpoint_group")
    endpoints = env.schema.child("endpoint_group", "endpoints")
    row = env.repo.conn.execute(
        sa.select(groups.c.id)
        .join(endpoints.table, endpoints.parent == groups.c.id)
        .where(groups.c.type == ENDPOINT_SUBNET, endpoints.table.c.value == subnet_id)
        .limit(1)
    ).first()
    if row is not None:
        raise errors.SubnetInUse(
            subnet_id=subnet_id,
            reason=f'Callback vpnaas.endpoint_groups failed with "Subnet {subnet_id} is used '
            f'by endpoint group {row[0]}"',
        )


def refuse_if_vpn_on_router(env: RuleEnv, router_id: str) -> None:
    """``RouterInUse`` while VPN services the caller can see use the router."""
    res = env.res("vpnservice")
    table = env.schema.table("vpnservice")
    where = [table.c.router_id == router_id]
    scope = env.scope_of(res).condition(table)
    if scope is not None:
        where.append(scope)
    ids = env.repo.ids(res, *where)
    if ids:
        noun = "VPN services" if len(ids) > 1 else "VPN service"
        raise errors.RouterInUse(
            router_id=router_id, reason=f"is currently used by {noun} ({','.join(ids)})"
        )


def refuse_if_vpn_uses(env: RuleEnv, router_id: str, subnet_id: str) -> None:
    """A service's own subnet, or a subnet of a local endpoint group one of the
    router's connections uses, keeps its interface (any project counts)."""
    services = env.schema.table("vpnservice")
    service_res = env.res("vpnservice")
    using = env.repo.ids(
        service_res, services.c.router_id == router_id, services.c.subnet_id == subnet_id
    )
    if using:
        raise errors.SubnetInUseByVPNService(subnet_id=subnet_id, vpnservice_id=using[0])
    conns = env.schema.table("ipsec_site_connection")
    groups = env.schema.table("endpoint_group")
    endpoints = env.schema.child("endpoint_group", "endpoints")
    row = env.repo.conn.execute(
        sa.select(conns.c.id)
        .join(services, services.c.id == conns.c.vpnservice_id)
        .join(groups, groups.c.id == conns.c.local_ep_group_id)
        .join(endpoints.table, endpoints.parent == groups.c.id)
        .where(
            services.c.router_id == router_id,
            groups.c.type == ENDPOINT_SUBNET,
            endpoints.table.c.value == subnet_id,
        )
        .order_by(conns.c.id)
        .limit(1)
    ).first()
    if row is not None:
        raise errors.SubnetInUseByIPsecSiteConnection(subnet_id=subnet_id, id=row[0])
