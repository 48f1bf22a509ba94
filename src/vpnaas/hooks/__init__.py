"""The hooks the generic controller calls, and the environment they get.

Both :mod:`vpnaas.topology` (the Neutron core subset) and :mod:`vpnaas.rules`
(VPNaaS) implement these hooks; neither imports the other. Each resource may
register a :class:`ResourceRules` whose hooks the controller calls inside the
request's write transaction, after the body has been validated and
authorized: ``on_create`` (may fill server-computed attributes), ``on_update``
(sees the stored object and the changes) and ``on_delete``. ``visibility``
narrows what a non-admin caller may see when owning the object is not the
whole story (networks other projects can see).

The core topology also runs :class:`Guards` before it takes away what other
resources may be built on (a subnet, a router's gateway or interface), and a
resource's member actions (``PUT <path>/{id}/<action>``) are
:data:`ActionHandler` functions. :mod:`vpnaas.hooks.compose` puts the
contributions of several packages together. Every hook raises
:mod:`vpnaas.errors` exceptions; none returns an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.db.query import Clause, Scope
from vpnaas.db.repo import Repo
from vpnaas.db.tables import Schema
from vpnaas.spec import Catalog, Resource

__all__ = ["ActionHandler", "Guards", "ResourceRules", "RuleEnv", "RuleOptions"]


@dataclass(frozen=True)
class RuleOptions:
    """What the rules need from configuration."""

    peer_hosts_file: str | None = None  # resolve peer names from this file only
    network_max_mtu: int = 1500


#: refuses removing a subnet: (env, subnet id)
SubnetGuard = Callable[["RuleEnv", str], None]
#: refuses removing or changing a router's gateway: (env, router id)
GatewayGuard = Callable[["RuleEnv", str], None]
#: refuses removing a router's interface on a subnet: (env, router id, subnet id)
InterfaceGuard = Callable[["RuleEnv", str, str], None]


@dataclass(frozen=True)
class Guards:
    """Checks the core topology runs before it takes away what other resources
    may be built on (``docs/api/routers.md`` §vpn-protection,
    ``docs/api/subnets.md`` §delete, ``docs/api/networks.md`` §delete); each
    raises the error that names the user."""

    subnet_removal: tuple[SubnetGuard, ...] = ()
    gateway_removal: tuple[GatewayGuard, ...] = ()
    interface_removal: tuple[InterfaceGuard, ...] = ()

    def __add__(self, other: Guards) -> Guards:
        return Guards(
            subnet_removal=self.subnet_removal + other.subnet_removal,
            gateway_removal=self.gateway_removal + other.gateway_removal,
            interface_removal=self.interface_removal + other.interface_removal,
        )

    def removing_subnet(self, env: RuleEnv, subnet_id: str) -> None:
        for guard in self.subnet_removal:
            guard(env, subnet_id)

    def removing_gateway(self, env: RuleEnv, router_id: str) -> None:
        for guard in self.gateway_removal:
            guard(env, router_id)

    def removing_interface(self, env: RuleEnv, router_id: str, subnet_id: str) -> None:
        for guard in self.interface_removal:
            guard(env, router_id, subnet_id)


@dataclass
class RuleEnv:
    """What a rule may use: the caller, the open transaction, the catalog, and
    the guards the application registered."""

    ctx: RequestContext
    repo: Repo
    catalog: Catalog
    options: RuleOptions
    scope_of: Callable[[Resource], Scope]
    guards: Guards = field(default_factory=Guards)

    @property
    def schema(self) -> Schema:
        return self.repo.schema

    def res(self, member: str) -> Resource:
        return self.catalog[member]

    def find(self, member: str, obj_id: Any, *, lock: bool = False) -> dict[str, Any] | None:
        """The object ``obj_id`` as the caller may see it, or None."""
        res = self.res(member)
        if not isinstance(obj_id, str):
            return None
        return self.repo.get(res, obj_id, self.scope_of(res), lock=lock)

    def lookup(self, member: str, obj_id: Any, *, lock: bool = False) -> dict[str, Any]:
        """The object ``obj_id`` as the caller may see it, or its 404."""
        obj = self.find(member, obj_id, lock=lock)
        if obj is None:
            raise errors.by_name(self.res(member).not_found)(id=obj_id)
        return obj

    def referrers(self, member: str, obj_id: str, *, field_name: str | None = None) -> list[str]:
        """Ids of objects of any project whose reference fields point at ``obj_id``."""
        found: list[str] = []
        for res in self.catalog.resources:
            for fld in res.stored:
                if fld.ref == member and (field_name is None or fld.name == field_name):
                    found.extend(
                        self.repo.ids_by(res, self.repo.column(res, fld.name).name, obj_id)
                    )
        return sorted(set(found))


class ResourceRules:
    """The hooks of one resource; each default does nothing."""

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        """Check a new object (every attribute set) and fill computed ones."""

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        """Check ``changes`` against the stored ``current`` object."""

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        """Refuse deleting an object still in use."""

    def visibility(self, ctx: RequestContext, schema: Schema, res: Resource) -> Clause | None:
        """Rows a non-admin caller sees; ``None`` means "rows of its project"."""
        return None


#: a member action: (env, the object as the caller sees it, locked and
#: authorized; the bare request body) -> the answer
ActionHandler = Callable[[RuleEnv, dict[str, Any], Any], dict[str, Any]]
