"""IKE and IPsec policies in use are frozen: no update, even an empty one,
and no delete, whoever owns the connection (``docs/api/ike-policies.md``
§update, §delete; ``docs/api/ipsec-policies.md`` §update, §delete)."""

from __future__ import annotations

import pytest

from tests.unit.rules.conftest import PROJECT_B, World
from vpnaas import errors
from vpnaas.rules.policies import PolicyRules
from vpnaas.rules.registry import vpn_rules

IN_USE = [
    pytest.param("ikepolicy", errors.IKEPolicyInUse, id="ikepolicy"),
    pytest.param("ipsecpolicy", errors.IPsecPolicyInUse, id="ipsecpolicy"),
]


def test_policies_registered_with_their_in_use_error() -> None:
    rules = vpn_rules()
    for member, in_use in (
        ("ikepolicy", errors.IKEPolicyInUse),
        ("ipsecpolicy", errors.IPsecPolicyInUse),
    ):
        rule = rules[member]
        assert isinstance(rule, PolicyRules)
        assert (rule.member, rule.in_use) == (member, in_use)


@pytest.mark.parametrize(("member", "in_use"), IN_USE)
def test_policies_unused_may_change_and_go(
    world: World, member: str, in_use: type[errors.ApiError]
) -> None:
    ike, ipsec = world.policies()
    current = world.stored(member, ike if member == "ikepolicy" else ipsec)
    rule = PolicyRules(member, in_use)
    with world.writing() as env:
        rule.on_update(env, current, {"name": "renamed"})
        rule.on_delete(env, current)


@pytest.mark.parametrize(("member", "in_use"), IN_USE)
def test_policies_used_refuse_update_even_empty_and_delete(
    world: World, member: str, in_use: type[errors.ApiError]
) -> None:
    ike, ipsec = world.policies()
    world.connection(world.service(subnet="subnet"), ike, ipsec)
    policy_id = ike if member == "ikepolicy" else ipsec
    current = world.stored(member, policy_id)
    rule = PolicyRules(member, in_use)
    with world.writing() as env:
        for changes in ({}, {"name": "renamed"}):
            with pytest.raises(in_use) as raised:
                rule.on_update(env, current, changes)
            assert raised.value.status == 409
            assert policy_id in raised.value.message
        with pytest.raises(in_use):
            rule.on_delete(env, current)


def test_policies_used_by_another_projects_connection_are_in_use(world: World) -> None:
    """The guard counts connections of every project, not the caller's."""
    ike, ipsec = world.policies(PROJECT_B)
    service = world.service("other_router", "other_subnet", PROJECT_B)
    world.connection(service, ike, ipsec, PROJECT_B)
    # project A asks: the connection is not its own, the policy is still frozen
    with world.writing() as env:
        with pytest.raises(errors.IKEPolicyInUse):
            vpn_rules()["ikepolicy"].on_delete(env, world.stored("ikepolicy", ike))
        with pytest.raises(errors.IPsecPolicyInUse):
            vpn_rules()["ipsecpolicy"].on_update(env, world.stored("ipsecpolicy", ipsec), {})
