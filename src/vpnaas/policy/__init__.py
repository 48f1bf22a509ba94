"""Authorization: one oslo.policy enforcer with the spec-derived defaults.

Operators override rules with a ``policy.yaml`` (``[oslo_policy]
policy_file``); oslo.policy re-reads it when it changes, so no restart is
needed. Nothing else in vpnaas checks roles: the admin flag of a context is
the ``context_is_admin`` rule.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.policy.defaults import list_rules
from vpnaas.policy.reads import target_keys
from vpnaas.spec import Catalog, Resource

__all__ = ["Authorizer"]


class _Enforcer(oslo_policy.Enforcer):
    """oslo.policy's enforcer, re-reading its files only when they changed.

    oslo.policy looks for its policy file in every configuration directory on
    each check (several ``stat`` calls, a large share of a cached request);
    here one ``stat`` of the file found decides, unless policy directories
    are in use, where oslo.policy's own checks stay in charge.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf)
        self._seen: tuple[str | None, int | None] | None = None
        self._looked_at = self._file_looked_at = -2.0
        #: bumped whenever the rules in force may have changed
        self.version = 0

    def policy_file_state(self) -> tuple[str | None, int | None]:
        """The policy file in use and its modification time (``None``s if
        there is none)."""
        name = self.policy_file
        path = self._found
        if path is None and time.monotonic() - self._file_looked_at > 1.0:
            self._file_looked_at = time.monotonic()
            path = name if os.path.isabs(name) else self.conf.find_file(name)
            self._found = path
        try:
            return path, os.stat(path).st_mtime_ns if path else None
        except OSError:
            self._found = None
            return None, None

    _found: str | None = None

    _dirs_found = False

    def _uses_policy_dirs(self) -> bool:
        """Whether a configured policy directory exists (looked up again at
        most once a second)."""
        if time.monotonic() - self._looked_at > 1.0:
            self._looked_at = time.monotonic()
            self._dirs_found = any(
                self.conf.find_file(d) for d in self.conf.oslo_policy.policy_dirs
            )
        return self._dirs_found

    def load_rules(self, force_reload: bool = False) -> None:
        self.refresh(force_reload)

    def refresh(self, force_reload: bool = False) -> int:
        """Re-read the rules if their file changed; their :attr:`version`."""
        state = self.policy_file_state()
        if force_reload or state != self._seen or self._uses_policy_dirs():
            before = self.rules
            super().load_rules(force_reload)
            # oslo.policy replaces its rules whenever a file or directory changed
            if self.rules is not before or state != self._seen:
                self.version += 1
            self._seen = state
        return self.version


#: a target key the target does not have (``None`` is a value)
_ABSENT = object()
#: decisions kept before the memo starts again
MEMO_SIZE = 4096


class Authorizer:
    """Answers "may this context do that to this target?".

    Decisions are remembered per rules in force, caller identity and the
    target values the rule reads (:mod:`vpnaas.policy.reads`); a rule that
    may read anything else is asked every time.
    """

    def __init__(self, conf: cfg.ConfigOpts, cat: Catalog) -> None:
        self.enforcer = _Enforcer(conf)
        self.enforcer.register_defaults(list_rules(cat))
        self._admin: dict[tuple[Any, ...], bool] = {}
        self._decisions: dict[tuple[Any, ...], bool] = {}
        self._reads: dict[str, tuple[str, ...] | None] = {}
        self._memo_generation = -1

    def is_admin(self, ctx: RequestContext) -> bool:
        """Whether ``ctx`` passes ``context_is_admin`` (remembered per caller
        identity and rules in force)."""
        key = (ctx.identity, self.generation())
        found = self._admin.get(key)
        if found is None:
            creds = {
                "roles": sorted(ctx.roles),
                "project_id": ctx.project_id,
                "user_id": ctx.user_id,
            }
            found = bool(self.enforcer.enforce("context_is_admin", {}, creds, do_raise=False))
            if len(self._admin) > 4096:
                self._admin.clear()
            self._admin[key] = found
        return found

    def allowed(self, ctx: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        """Whether ``rule`` passes; a token of the wrong scope never passes."""
        key = self._decision_key(ctx, rule, target)
        found = self._decisions.get(key) if key is not None else None
        if found is None:
            found = self._decide(ctx, rule, target)
            if key is not None:
                if len(self._decisions) >= MEMO_SIZE:
                    self._decisions.clear()
                self._decisions[key] = found
        return found

    def _decide(self, ctx: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        try:
            return bool(self.enforcer.enforce(rule, dict(target), ctx.oslo, do_raise=False))
        except oslo_policy.InvalidScope:
            return False

    def _decision_key(
        self, ctx: RequestContext, rule: str, target: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """What a decision of ``rule`` depends on, or None if it is not kept."""
        generation = self.generation()
        if generation != self._memo_generation:
            self._reads.clear()
            self._decisions.clear()
            self._memo_generation = generation
        if rule in self._reads:
            keys = self._reads[rule]
        else:
            found = target_keys(self.enforcer.rules, rule)
            keys = self._reads[rule] = None if found is None else tuple(sorted(found))
        if keys is None:
            return None
        # the type too: True and 1 are equal keys but format differently
        values = tuple((type(v), v) for v in (target.get(k, _ABSENT) for k in keys))
        key = (rule, generation, ctx.identity, values)
        try:
            hash(key)
        except TypeError:  # a list or dict value: not kept
            return None
        return key

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

    def generation(self) -> int:
        """Changes whenever the rules in force change (a policy file edited)."""
        return self.enforcer.refresh()

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
