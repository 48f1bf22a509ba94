"""Kept policy decisions: what a rule reads, and answers equal oslo.policy's."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from oslo_policy import _checks, _parser

from vpnaas.auth import implied_roles
from vpnaas.context import RequestContext
from vpnaas.policy import Authorizer
from vpnaas.policy.checks import register_checks
from vpnaas.policy.reads import target_keys
from vpnaas.settings import load
from vpnaas.spec import catalog


def _rules(**text: str) -> dict[str, Any]:
    register_checks()
    return {name: _parser.parse_rule(rule) for name, rule in text.items()}


@pytest.mark.parametrize(
    ("rule", "keys"),
    [
        ("role:member and project_id:%(project_id)s", {"project_id"}),
        ("role:%(role_name)s", {"role_name"}),
        ("'shared':%(kind)s or not user_id:%(owner)05d", {"kind", "owner"}),
        ("field:networks:shared=True", {"shared", "network:shared"}),
        ("@", set()),
        ("!", set()),
        ("rule:owner or rule:admin", {"tenant_id"}),
        ("rule:nowhere", set()),  # fails closed, reading nothing
        ("rule:loop", {"x"}),
    ],
    ids=["generic", "role", "literal", "field", "true", "false", "rules", "missing", "cycle"],
)
def test_target_keys_of_known_checks(rule: str, keys: set[str]) -> None:
    rules = _rules(
        probe=rule,
        owner="project_id:%(tenant_id)s",
        admin="role:admin",
        loop="rule:back or user_id:%(x)s",
        back="rule:loop",
    )
    assert target_keys(rules, "probe") == frozenset(keys)


@pytest.mark.parametrize(
    "rule",
    [
        "http://127.0.0.1:9/check",  # asks a remote server
        "project_id:%s",  # formats the whole target
        "project_id:100%",
        "rule:remote",
    ],
    ids=["http", "whole-target", "stray-percent", "nested-http"],
)
def test_rules_reading_anything_else_are_not_kept(rule: str) -> None:
    rules = _rules(probe=rule, remote="role:admin or http://127.0.0.1:9/check")
    assert target_keys(rules, "probe") is None


def test_an_unknown_rule_is_not_kept() -> None:
    assert target_keys(_rules(), "missing") is None


def _authorizer(tmp_path: Path, policy: str = "") -> Authorizer:
    (tmp_path / "policy.yaml").write_text(policy or "{}\n")
    config = tmp_path / "vpnaas.conf"
    config.write_text(f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n")
    return Authorizer(load([str(config)]).conf, catalog())


# each differs from another in one part of its identity only
CALLERS = [
    RequestContext(project_id="p1", user_id="u1", roles=implied_roles(["member"])),
    RequestContext(project_id="p1", user_id="u1", roles=implied_roles(["reader"])),
    RequestContext(project_id="p1", user_id="u2", roles=implied_roles(["reader"])),
    RequestContext(project_id="p2", user_id="u3", roles=implied_roles(["member"])),
    RequestContext(project_id="p1", roles=implied_roles(["admin"]), is_admin=True),
    RequestContext(project_id=None, roles=implied_roles(["admin"]), system_scope="all"),
    RequestContext(project_id="p1", roles=implied_roles(["service"])),
]
TARGETS = [
    {"project_id": "p1", "tenant_id": "p1", "shared": False, "router:external": False},
    {"project_id": "p2", "tenant_id": "p2", "shared": True, "network:shared": True},
    {"project_id": "p1", "tenant_id": "p1", "shared": True, "peer_cidrs": ["10.0.0.0/24"]},
    {},
]


def test_kept_decisions_equal_oslo_policy_for_every_default_rule(tmp_path: Path) -> None:
    authz = _authorizer(tmp_path)
    authz.generation()  # loads the rules
    names = sorted(set(authz.enforcer.registered_rules) | set(authz.enforcer.rules))
    assert len(names) > 50
    assert all(target_keys(authz.enforcer.rules, name) is not None for name in names)
    for name, ctx, target in itertools.product(names, CALLERS, TARGETS):
        want = authz._decide(ctx, name, target)
        # the first answer may be computed, the second is kept if it can be
        assert authz.allowed(ctx, name, target) is want, (name, ctx, target)
        assert authz.allowed(ctx, name, target) is want, (name, ctx, target)


class _Counting(_checks.Check):
    calls = 0

    def __call__(self, target: Any, creds: Any, enforcer: Any, current_rule: Any = None) -> bool:
        type(self).calls += 1
        return True


def test_a_rule_with_an_unknown_check_is_asked_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(_checks.registered_checks, "counting", _Counting)
    authz = _authorizer(tmp_path, '"get_ikepolicy": "counting:x"\n')
    caller, target = CALLERS[0], TARGETS[0]
    for _ in range(3):
        assert authz.allowed(caller, "get_ikepolicy", target)
    assert _Counting.calls == 3


def test_an_edited_policy_file_drops_kept_decisions(tmp_path: Path) -> None:
    authz = _authorizer(tmp_path)
    caller, target = CALLERS[0], TARGETS[0]
    assert authz.allowed(caller, "get_ikepolicy", target)
    policy = tmp_path / "policy.yaml"
    policy.write_text('"get_ikepolicy": "!"\n')
    stat = policy.stat()
    # a new modification time even on a coarse clock
    os.utime(policy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not authz.allowed(caller, "get_ikepolicy", target)
