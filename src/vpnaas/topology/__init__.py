"""The Neutron core subset's behaviour: visibility, address allocation,
router gateways and interfaces.

:func:`topology_contribution` is what the application registers: the rules of
the four core resources, the repository's filters and loaders, and the
handlers of the router's member actions (:mod:`vpnaas.topology.interfaces`).
What other resources protect in the topology comes in as
:class:`vpnaas.hooks.Guards`.
"""

from __future__ import annotations

from vpnaas.db.query import FilterHook, Hooks, Loader
from vpnaas.hooks.compose import Contribution
from vpnaas.topology.interfaces import interface_actions
from vpnaas.topology.networks import NetworkRules, load_subnet_ids
from vpnaas.topology.ports import PortRules, fixed_ips_filter
from vpnaas.topology.routers import RouterRules, load_gateway_info
from vpnaas.topology.subnets import SubnetRules, load_network_attributes, shared_filter

__all__ = ["topology_contribution", "topology_hooks"]


def topology_contribution() -> Contribution:
    return Contribution(
        rules={
            "network": NetworkRules(),
            "subnet": SubnetRules(),
            "router": RouterRules(),
            "port": PortRules(),
        },
        hooks=topology_hooks(),
        actions=interface_actions(),
    )


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
