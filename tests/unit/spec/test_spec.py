"""Generic checks over every resource declaration (after neutron-lib's
DefinitionBaseTestCase): the spec is internally consistent."""

from __future__ import annotations

import pytest

from vpnaas import errors
from vpnaas.api import body
from vpnaas.context import RequestContext
from vpnaas.db.tables import schema
from vpnaas.policy.defaults import list_rules
from vpnaas.spec import Field, Resource, catalog
from vpnaas.spec.resource import COMPUTED, REQUIRED

CATALOGS = [catalog(), catalog(legacy_crypto=True)]
RESOURCES = [pytest.param(r, id=r.member) for r in catalog().resources]
FIELDS = [
    pytest.param(r, f, id=f"{r.member}.{f.name}".replace(":", "-"))
    for cat in CATALOGS
    for r in cat.resources
    for f in r.fields
]


@pytest.mark.parametrize(("res", "fld"), FIELDS)
def test_every_default_is_valid_for_its_field(res: Resource, fld: Field) -> None:
    if fld.default in (REQUIRED, COMPUTED) or not fld.create:
        return
    fld.kind.validate(fld.kind.convert(fld.default))


@pytest.mark.parametrize("res", RESOURCES)
def test_every_sort_key_and_filter_has_a_column(res: Resource) -> None:
    tables = schema()
    for name in res.sort_keys:
        fld = res.field(name)
        assert fld.stored, name
        assert not fld.in_child_table, name
        assert tables.field_columns(res, fld), name
    hooks = {n for n, _ in res.extra_filters}
    for name in res.filters - hooks - {a for a, _ in res.filter_aliases}:
        fld = res.field(name)
        assert fld.stored or fld.name in hooks, name


@pytest.mark.parametrize("res", RESOURCES)
def test_references_point_at_declared_resources(res: Resource) -> None:
    members = {r.member for r in catalog().resources}
    for fld in res.fields:
        if fld.ref:
            assert fld.ref in members, f"{res.member}.{fld.name} -> {fld.ref}"


@pytest.mark.parametrize("res", RESOURCES)
def test_secrets_are_neither_sortable_nor_named_like_ids(res: Resource) -> None:
    for fld in res.fields:
        if fld.secret:
            assert not fld.sort


@pytest.mark.parametrize("res", RESOURCES)
def test_not_found_is_a_404_error_class(res: Resource) -> None:
    cls = errors.by_name(res.not_found)
    assert cls.status == 404
    assert cls(id="x").message


@pytest.mark.parametrize("res", RESOURCES)
def test_hidden_attributes_cannot_be_written(res: Resource) -> None:
    for fld in res.fields:
        if not fld.visible:
            assert not fld.create, fld.name
            assert not fld.update, fld.name


def test_policy_rule_names_are_unique() -> None:
    names = [rule.name for rule in list_rules(catalog())]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("res", RESOURCES)
def test_every_resource_has_its_four_rules(res: Resource) -> None:
    names = {rule.name for rule in list_rules(catalog())}
    verbs: tuple[str, ...] = ("create", "get", "update", "delete") if res.writable else ("get",)
    if not res.creatable:
        verbs = tuple(v for v in verbs if v != "create")
    for verb in verbs:
        assert f"{verb}_{res.member}" in names


@pytest.mark.parametrize("res", RESOURCES)
def test_a_body_of_only_required_attributes_gets_every_default(res: Resource) -> None:
    if not (res.writable and res.creatable):
        return
    item = {f.name: _sample(f) for f in res.fields if f.required}
    try:
        prepared = body.prepare_create(res, RequestContext(project_id="p"), {res.member: item})
    except errors.ApiError as exc:  # a sample the kind refuses is a bad sample, not a pass
        pytest.fail(f"{res.member}: {exc.message}")
    for fld in res.fields:
        if fld.create and fld.default not in (REQUIRED, COMPUTED):
            assert fld.name in prepared.values


def _sample(fld: Field) -> object:
    samples = {"ip_version": 4, "type": "cidr"}
    if fld.name in samples:
        return samples[fld.name]
    if fld.ref or fld.name.endswith("_id"):
        return "9e1fd3a6-1f2b-4c1e-9d57-0c5d9b1d8d11"
    return "x"
