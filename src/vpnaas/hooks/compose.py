"""Putting together what several packages contribute.

The application builds one :class:`Contribution` per package (the core
topology, the VPN rules with the driver's) and hands :func:`compose`'s result
to the controller. Rules two packages register for one resource run one after
the other, in the order the contributions are given; a filter, loader or
action handler belongs to one package only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from vpnaas.context import RequestContext
from vpnaas.db.query import Clause, Hooks
from vpnaas.db.tables import Schema
from vpnaas.hooks import ActionHandler, Guards, ResourceRules, RuleEnv
from vpnaas.spec import Resource

__all__ = ["ComposedRules", "Contribution", "compose"]


@dataclass(frozen=True)
class Contribution:
    """What one package adds: rules per resource, the repository's filters and
    loaders, guards, and member action handlers by (member, action)."""

    rules: Mapping[str, ResourceRules] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)
    guards: Guards = field(default_factory=Guards)
    actions: Mapping[tuple[str, str], ActionHandler] = field(default_factory=dict)


class ComposedRules(ResourceRules):
    """Several packages' rules for one resource, each hook run in order; the
    visible rows are those every narrowing rule lets through."""

    def __init__(self, parts: Iterable[ResourceRules]) -> None:
        self.parts = tuple(parts)

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        for part in self.parts:
            part.on_create(env, obj)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        for part in self.parts:
            part.on_update(env, current, changes)

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        for part in self.parts:
            part.on_delete(env, current)

    def visibility(self, ctx: RequestContext, schema: Schema, res: Resource) -> Clause | None:
        clauses = [c for c in (p.visibility(ctx, schema, res) for p in self.parts) if c is not None]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else sa.and_(*clauses)


K = TypeVar("K")
V = TypeVar("V")


def _disjoint(what: str, maps: Iterable[Mapping[K, V]]) -> dict[K, V]:
    merged: dict[K, V] = {}
    for mapping in maps:
        for key, value in mapping.items():
            if key in merged:
                raise ValueError(f"two contributions register the {what} {key!r}")
            merged[key] = value
    return merged


def compose(*parts: Contribution) -> Contribution:
    """One contribution doing what all of ``parts`` do."""
    by_member: dict[str, list[ResourceRules]] = {}
    for part in parts:
        for member, rules in part.rules.items():
            by_member.setdefault(member, []).append(rules)
    guards = Guards()
    for part in parts:
        guards += part.guards
    return Contribution(
        rules={m: r[0] if len(r) == 1 else ComposedRules(r) for m, r in by_member.items()},
        hooks=Hooks(
            filters=_disjoint("filter", (p.hooks.filters for p in parts)),
            loaders=_disjoint("loader", (p.hooks.loaders for p in parts)),
        ),
        guards=guards,
        actions=_disjoint("action", (p.actions for p in parts)),
    )
