"""IKE and IPsec policies: no semantic checks on create; in use means frozen.

A policy used by any connection (of any project) can be neither updated, even
by an empty body, nor deleted (``docs/api/ike-policies.md`` §update, §delete).
"""

from __future__ import annotations

from typing import Any

from vpnaas import errors
from vpnaas.hooks import ResourceRules, RuleEnv

__all__ = ["PolicyRules"]


class PolicyRules(ResourceRules):
    def __init__(self, member: str, in_use: type[errors.ApiError]) -> None:
        self.member = member
        self.in_use = in_use

    def _refuse_if_used(self, env: RuleEnv, current: dict[str, Any]) -> None:
        if env.referrers(self.member, current["id"]):
            raise self.in_use(id=current["id"])

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        self._refuse_if_used(env, current)

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        self._refuse_if_used(env, current)
