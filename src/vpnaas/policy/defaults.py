"""Default policy rules, derived from the spec (``docs/api/policy.md`` §rules).

Every resource gets ``create_/get_/update_/delete_<member>`` with the check
string its :class:`~vpnaas.spec.resource.Policy` names, ``scope_types =
['project']`` and the legacy rule as a deprecated alternative; every field
marked ``enforce_policy`` gets ``<action>_<member>:<field>`` (admin only).
Rule names and check strings are Neutron's, so operators' ``policy.yaml``
files keep working.
"""

from __future__ import annotations

from collections.abc import Iterator

from oslo_policy import policy

from vpnaas.policy.checks import register_checks
from vpnaas.spec import Catalog, Resource

__all__ = ["BUILDING_BLOCKS", "list_rules"]

ADMIN = "rule:admin_only"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
NETWORK_OWNER_READER = "role:reader and project_id:%(network:project_id)s"

#: named check strings a resource's Policy may refer to
BUILDING_BLOCKS = {
    "ADMIN": ADMIN,
    "ADMIN_OR_PROJECT_MEMBER": f"({ADMIN}) or ({PROJECT_MEMBER})",
    "ADMIN_OR_PROJECT_READER": f"({ADMIN}) or ({PROJECT_READER})",
    "ADMIN_OR_PROJECT_READER_OR_SHARED_OR_EXTERNAL": (
        f"({ADMIN}) or ({PROJECT_READER}) or rule:shared or rule:external"
    ),
    "ADMIN_OR_PROJECT_READER_OR_NETWORK_VISIBLE": (
        f"({ADMIN}) or ({PROJECT_READER}) or rule:shared or rule:external"
        f" or ({NETWORK_OWNER_READER})"
    ),
    "ADMIN_OR_PROJECT_READER_OR_NETWORK_OWNER": (
        f"({ADMIN}) or ({PROJECT_READER}) or ({NETWORK_OWNER_READER})"
    ),
}


def _base_rules() -> tuple[policy.RuleDefault, ...]:
    return (
        policy.RuleDefault("context_is_admin", "role:admin", "Rule for cloud admin access"),
        policy.RuleDefault("admin_only", "rule:context_is_admin", "Rule for admin-only actions"),
        policy.RuleDefault("owner", "project_id:%(project_id)s", "Rule for resource owners"),
        policy.RuleDefault(
            "admin_or_owner",
            "rule:context_is_admin or rule:owner",
            "Rule for admin or owner access",
        ),
        policy.RuleDefault("regular_user", "", "Rule for any authenticated user"),
        policy.RuleDefault("service_api", "role:service", "Rule for service-to-service calls"),
        policy.RuleDefault(
            "shared", "field:networks:shared=True", "Rule for shared networks (and their subnets)"
        ),
        policy.RuleDefault(
            "external",
            "field:networks:router:external=True",
            "Rule for external networks (and their subnets)",
        ),
        policy.RuleDefault("default", "rule:admin_or_owner", "Fallback for rules not defined"),
    )


_VERBS = (
    ("create", "POST", ""),
    ("get", "GET", ""),
    ("update", "PUT", "/{id}"),
    ("delete", "DELETE", "/{id}"),
)


def _check(name: str) -> str:
    return BUILDING_BLOCKS.get(name, name)


def _resource_rules(res: Resource) -> Iterator[policy.DocumentedRuleDefault]:
    for verb, method, suffix in _VERBS:
        if verb != "get" and not res.writable:
            continue
        if verb == "create" and not res.creatable:
            continue
        spec = getattr(res.policy, verb)
        legacy = res.policy.legacy_create if verb == "create" else res.policy.legacy_other
        paths = [f"/v2.0{res.path}{suffix}"]
        if verb == "get":
            paths.append(f"/v2.0{res.path}/{{id}}")
        name = f"{verb}_{res.member}"
        yield policy.DocumentedRuleDefault(
            name=name,
            check_str=_check(spec),
            description=f"{verb.capitalize()} {'an' if res.member[0] in 'aeiou' else 'a'} "
            f"{res.member.replace('_', ' ')}",
            operations=[{"method": method, "path": p} for p in paths],
            scope_types=["project"],
            deprecated_rule=policy.DeprecatedRule(
                name=name,
                check_str=legacy,
                deprecated_reason=f"The API now supports secure RBAC default roles for "
                f"{res.collection}.",
                deprecated_since="2025.2",
            ),
        )
        if verb not in ("create", "update"):
            continue
        for field in res.fields:
            for sub, check in field.enforce_policy:
                attr = f"{field.name}:{sub}" if sub else field.name
                yield policy.DocumentedRuleDefault(
                    name=f"{name}:{attr}",
                    check_str=_check(check),
                    description=f"Specify ``{attr}`` when {verb.rstrip('e')}ing a {res.member}",
                    operations=[{"method": method, "path": paths[0]}],
                    scope_types=["project"],
                )


def _action_rules(res: Resource) -> Iterator[policy.DocumentedRuleDefault]:
    for action in res.actions:
        yield policy.DocumentedRuleDefault(
            name=action,
            check_str=_check("ADMIN_OR_PROJECT_MEMBER"),
            description=f"{action.replace('_', ' ').capitalize()}",
            operations=[{"method": "PUT", "path": f"/v2.0{res.path}/{{id}}/{action}"}],
            scope_types=["project"],
            deprecated_rule=policy.DeprecatedRule(
                name=action,
                check_str=res.policy.legacy_other,
                deprecated_reason="The API now supports secure RBAC default roles.",
                deprecated_since="2025.2",
            ),
        )


def _extra_rules(res: Resource) -> Iterator[policy.DocumentedRuleDefault]:
    for name, view, check, description in res.extra_rules:
        yield policy.DocumentedRuleDefault(
            name=name,
            check_str=_check(check),
            description=description,
            operations=[{"method": "GET", "path": f"/v2.0{res.path}/{{id}}/{view}"}],
            scope_types=["project"],
        )


def list_rules(cat: Catalog) -> list[policy.RuleDefault]:
    """Every default rule vpnaas registers (also what ``policy sample`` prints)."""
    register_checks()
    rules: list[policy.RuleDefault] = list(_base_rules())
    for res in cat.resources:
        rules.extend(_resource_rules(res))
        rules.extend(_action_rules(res))
        rules.extend(_extra_rules(res))
    return rules


def sample_rules() -> list[policy.RuleDefault]:
    """The defaults of the default catalog (``oslo.policy.policies`` entry point)."""
    from vpnaas.spec import catalog

    return list_rules(catalog())
