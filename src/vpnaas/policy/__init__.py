"""Authorization: one oslo.policy enforcer with the spec-derived defaults.

Operators override rules with a ``policy.yaml`` (``[oslo_policy]
policy_file``); oslo.policy re-reads it when it changes, so no restart is
needed. Nothing else in vpnaas checks roles: the admin flag of a context is
the ``context_is_admin`` rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.policy.defaults import list_rules
from vpnaas.spec import Catalog, Resource

__all__ = ["Authorizer"]


class Authorizer:
    """Answers "may this context do that to this target?"."""

    def __init__(self, conf: cfg.ConfigOpts, cat: Catalog) -> None:
        self.enforcer = oslo_policy.Enforcer(conf)
        self.enforcer.register_defaults(list_rules(cat))

    def is_admin(self, ctx: RequestContext) -> bool:
        """Whether ``ctx`` passes ``context_is_admin``."""
        creds = {"roles": sorted(ctx.roles), "project_id": ctx.project_id, "user_id": ctx.user_id}
        return bool(self.enforcer.enforce("context_is_admin", {}, creds, do_raise=False))

    def allowed(self, ctx: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        """Whether ``rule`` passes; a token of the wrong scope never passes."""
        try:
            return bool(self.enforcer.enforce(rule, dict(target), ctx.oslo, do_raise=False))
        except oslo_policy.InvalidScope:
            return False

    def authorize(
        self, ctx: RequestContext, rules: Iterable[str], target: Mapping[str, Any]
    ) -> None:
        """Raise ``PolicyNotAuthorized`` unless every rule passes."""
        names = list(rules)
        if not all(self.allowed(ctx, name, target) for name in names):
            action = " and ".join(f"rule:{name}" for name in names)
            raise errors.PolicyNotAuthorized(action=f"({action})" if len(names) > 1 else action)

    def write_rules(
        self, res: Resource, verb: str, values: Mapping[str, Any], *, create: bool
    ) -> list[str]:
        """``<verb>_<member>`` plus the attribute rules the written values call for."""
        rule = f"{verb}_{res.member}"
        names = [rule]
        for fld in res.fields:
            if not fld.enforce_policy or fld.name not in values:
                continue
            value = values[fld.name]
            for sub, _check in fld.enforce_policy:
                if not sub and (not create or value != fld.default):
                    names.append(f"{rule}:{fld.name}")
                elif sub and isinstance(value, dict) and sub in value:
                    names.append(f"{rule}:{fld.name}:{sub}")
        return names

    def generation(self) -> tuple[Any, ...]:
        """Changes whenever the rules in force change (a policy file edited)."""
        self.enforcer.load_rules()
        files = getattr(self.enforcer, "_file_cache", {})
        mtimes = tuple(sorted((path, entry.get("mtime")) for path, entry in files.items()))
        return (id(self.enforcer.rules), mtimes)

    def check_scope(self, ctx: RequestContext, rule: str) -> None:
        """403 ``InvalidScope`` for a token whose scope the rule does not
        accept (a system- or domain-scoped token on a project rule)."""
        scope = _token_scope(ctx)
        registered = self.enforcer.registered_rules.get(rule)
        types = getattr(registered, "scope_types", None)
        if scope is not None and types and scope not in types:
            raise errors.InvalidScope(rule=rule, scope_types=types, token_scope=scope)


def _token_scope(ctx: RequestContext) -> str | None:
    if ctx.system_scope:
        return "system"
    if ctx.project_id is None and ctx.domain_id is not None:
        return "domain"
    return "project" if ctx.project_id is not None else None
