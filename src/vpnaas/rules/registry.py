"""The VPNaaS contribution: the rules by resource name and the guards."""

from __future__ import annotations

from collections.abc import Mapping

from vpnaas import errors
from vpnaas.hooks import ResourceRules
from vpnaas.hooks.compose import Contribution
from vpnaas.rules.endpoint_group import EndpointGroupRules
from vpnaas.rules.guards import vpn_guards
from vpnaas.rules.ipsec_site_connection import ConnectionRules
from vpnaas.rules.policies import PolicyRules
from vpnaas.rules.vpnservice import VPNServiceRules

__all__ = ["vpn_contribution", "vpn_rules"]


def vpn_rules() -> dict[str, ResourceRules]:
    return {
        "ikepolicy": PolicyRules("ikepolicy", errors.IKEPolicyInUse),
        "ipsecpolicy": PolicyRules("ipsecpolicy", errors.IPsecPolicyInUse),
        "vpnservice": VPNServiceRules(),
        "endpoint_group": EndpointGroupRules(),
        "ipsec_site_connection": ConnectionRules(),
    }


def vpn_contribution(driver_rules: Mapping[str, ResourceRules] | None = None) -> Contribution:
    """The VPN rules and guards; a driver's rules replace the VPN rules they
    extend (``vpnaas.drivers.strongswan.rules``)."""
    return Contribution(rules={**vpn_rules(), **(driver_rules or {})}, guards=vpn_guards())
