"""What each resource IS: the declarations everything else is derived from.

This package imports nothing else of vpnaas. :func:`catalog` assembles the
resources and extensions one server instance serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from vpnaas.spec.agents import agent_resources
from vpnaas.spec.core import core_resources
from vpnaas.spec.extensions import Extension, extensions
from vpnaas.spec.resource import Field, Resource
from vpnaas.spec.vpn import vpn_resources

__all__ = ["Catalog", "Field", "Resource", "catalog"]


@dataclass(frozen=True)
class Catalog:
    """The resources (dependency order) and extensions of one server."""

    resources: tuple[Resource, ...]
    extensions: tuple[Extension, ...]

    def __getitem__(self, member: str) -> Resource:
        for resource in self.resources:
            if resource.member == member:
                return resource
        raise KeyError(member)


@cache
def catalog(*, legacy_crypto: bool = False) -> Catalog:
    """Every resource vpnaas serves: the core subset first, then VPNaaS, then
    the agents that build its tunnels."""
    return Catalog(
        resources=(
            *core_resources(),
            *vpn_resources(legacy_crypto=legacy_crypto),
            *agent_resources(),
        ),
        extensions=extensions(legacy_crypto=legacy_crypto),
    )
