"""The Neutron core subset's behaviour: visibility, address allocation,
router gateways and interfaces, and the protections VPN services need.

:func:`topology_rules` and :func:`topology_hooks` are what the application
registers; :mod:`vpnaas.topology.interfaces` adds the two router actions.
"""

from __future__ import annotations

from vpnaas.db.query import FilterHook, Hooks, Loader
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
    """The topology's filters and loaders, each with the resources it reads."""
    network_view = Loader(load_network_attributes, reads=("network",))
    return Hooks(
        filters={
            ("subnet", "shared"): FilterHook(shared_filter, reads=("network", "subnet")),
            ("port", "fixed_ips"): FilterHook(fixed_ips_filter, reads=("port",)),
        },
        loaders={
            ("network", "subnets"): Loader(load_subnet_ids, reads=("subnet",)),
            ("router", "external_gateway_info"): Loader(load_gateway_info, reads=("port",)),
            **{
                (member, f"network:{name}"): network_view
                for member in ("subnet", "port")
                for name in ("project_id", "shared", "router:external")
            },
        },
    )
