"""Checks a schema cannot express: cross-field and cross-resource rules.

Each resource may register a :class:`ResourceRules` whose hooks the generic
controller calls inside the request's write transaction, after the body has
been validated and authorized: ``on_create`` (may fill server-computed
attributes), ``on_update`` (sees the stored object and the changes) and
``on_delete``. ``visibility`` narrows what a non-admin caller may see when
owning the object is not the whole story (networks other projects can see).
Every hook raises :mod:`vpnaas.errors` exceptions; none returns an error.
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

__all__ = ["ResourceRules", "RuleEnv", "RuleOptions"]


@dataclass(frozen=True)
class RuleOptions:
    """What the rules need from configuration."""

    peer_hosts_file: str | None = None  # resolve peer names from this file only
    network_max_mtu: int = 1500


@dataclass
class RuleEnv:
    """What a rule may use: the caller, the open transaction, the catalog."""

    ctx: RequestContext
    repo: Repo
    catalog: Catalog
    options: RuleOptions
    scope_of: Callable[[Resource], Scope]
    cache: dict[str, Any] = field(default_factory=dict)

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
