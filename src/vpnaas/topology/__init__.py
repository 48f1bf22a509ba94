"""The Neutron core subset's behaviour: visibility, address allocation,
router gateways and interfaces, and the protections VPN services need.

:func:`topology_rules` and :func:`topology_hooks` are what the application
registers; :mod:`vpnaas.topology.interfaces` adds the two router actions.
"""

from __future__ import annotations

from vpnaas.db.repo import Hooks
from vpnaas.rules import ResourceRules
from vpnaas.topology.networks import NetworkRules, load_subnet_ids
from vpnaas.topology.ports import PortRules, fixed_ips_filter
from vpnaas.topology.routers import RouterRules, load_gateway_info
from vpnaas.topology.subnets import SubnetRules, load_network_attributes, shared_filter

__all__ = ["topology_hooks", "topology_rules"]


def topology_rules() -> dict[str, ResourceRules]:
    return {
        "network": NetworkRules(),
        "subnet": SubnetRules(),
        "router": RouterRules(),
        "port": PortRules(),
    }


def topology_hooks() -> Hooks:
    network_view = {
        (member, f"network:{name}"): load_network_attributes
        for member in ("subnet", "port")
        for name in ("project_id", "shared", "router:external")
    }
    return Hooks(
        filters={("subnet", "shared"): shared_filter, ("port", "fixed_ips"): fixed_ips_filter},
        loaders={
            ("network", "subnets"): load_subnet_ids,
            ("router", "external_gateway_info"): load_gateway_info,
            **network_view,
        },
    )
