"""VPN services: a visible router with a gateway, optionally one of its subnets.

On create the router must exist for the caller and have an external gateway,
the subnet (if any) must be attached to it, and the service records the
gateway's first IPv4 and IPv6 address. Updates are refused while the service
is pending; a service with connections cannot be deleted
(``docs/api/vpn-services.md`` §create, §update, §delete).
"""

from __future__ import annotations

from typing import Any

from vpnaas import errors
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.hooks.queries import gateway_ips, ip_version, subnet_on_router
from vpnaas.spec.vpn import PENDING_STATUSES

__all__ = ["VPNServiceRules", "refuse_pending"]


def refuse_pending(current: dict[str, Any]) -> None:
    """``VPNStateInvalidToUpdate`` while the driver has not settled the object."""
    if current["status"] in PENDING_STATUSES:
        raise errors.VPNStateInvalidToUpdate(state=current["status"], id=current["id"])


class VPNServiceRules(ResourceRules):
    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        if obj["flavor_id"] is not None:
            raise errors.FlavorsPluginNotLoaded()
        router = env.lookup("router", obj["router_id"], lock=True)
        if router["gw_network_id"] is None:
            raise errors.RouterIsNotExternal(router_id=router["id"])
        subnet_id = obj["subnet_id"]
        if subnet_id is not None and not subnet_on_router(env, router["id"], subnet_id):
            raise errors.SubnetIsNotConnectedToRouter(subnet_id=subnet_id, router_id=router["id"])
        addresses = gateway_ips(env, router["id"])
        obj["external_v4_ip"] = next((a for a in addresses if ip_version(a) == 4), None)
        obj["external_v6_ip"] = next((a for a in addresses if ip_version(a) == 6), None)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        refuse_pending(current)

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        if env.referrers("vpnservice", current["id"]):
            raise errors.VPNServiceInUse(id=current["id"])
