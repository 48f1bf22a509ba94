"""The VPNaaS rules, by resource name."""

from __future__ import annotations

from vpnaas import errors
from vpnaas.rules import ResourceRules
from vpnaas.rules.endpoint_group import EndpointGroupRules
from vpnaas.rules.ipsec_site_connection import ConnectionRules
from vpnaas.rules.policies import PolicyRules
from vpnaas.rules.vpnservice import VPNServiceRules

__all__ = ["vpn_rules"]


def vpn_rules() -> dict[str, ResourceRules]:
    return {
        "ikepolicy": PolicyRules("ikepolicy", errors.IKEPolicyInUse),
        "ipsecpolicy": PolicyRules("ipsecpolicy", errors.IPsecPolicyInUse),
        "vpnservice": VPNServiceRules(),
        "endpoint_group": EndpointGroupRules(),
        "ipsec_site_connection": ConnectionRules(),
    }
