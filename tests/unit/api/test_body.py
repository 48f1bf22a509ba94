"""Request bodies: envelope, owner, defaults and Neutron's error order."""

from __future__ import annotations

from typing import Any

import pytest

from vpnaas import errors
from vpnaas.api.body import load_json, merge_update, prepare_create, prepare_update
from vpnaas.context import RequestContext
from vpnaas.spec import catalog

IKE = catalog()["ikepolicy"]
SERVICE = catalog()["vpnservice"]
MEMBER = RequestContext(project_id="p")
ADMIN = RequestContext(project_id="p", is_admin=True)
NO_PROJECT_ADMIN = RequestContext(project_id=None, is_admin=True)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param(None, "Resource body required", id="empty"),
        pytest.param({}, "Resource body required", id="empty-object"),
        pytest.param([1], "Body contains invalid data", id="list"),
        pytest.param("x", "Body contains invalid data", id="string"),
        pytest.param({"other": {}}, "Unable to find 'ikepolicy' in request body", id="no-key"),
        pytest.param(
            {"ikepolicy": None}, "Unable to find 'ikepolicy' in request body", id="null-member"
        ),
        pytest.param(
            {"ikepolicy": []}, "Object 'ikepolicy' contains invalid data", id="not-object"
        ),
        pytest.param({"ikepolicys": [{}]}, "Bulk operation not supported", id="bulk"),
        pytest.param(
            {"ikepolicy": {"bogus": 1, "other": 2}},
            "Unrecognized attribute(s) 'bogus, other'",
            id="unknown",
        ),
        pytest.param({"ikepolicy": {"id": "x"}}, "Attribute 'id' not allowed in POST", id="id"),
        pytest.param(
            {"ikepolicy": {"project_id": "a", "tenant_id": "b"}},
            "'project_id' and 'tenant_id' do not match",
            id="owner-mismatch",
        ),
        pytest.param(
            {"ikepolicy": {"project_id": "q"}},
            "Specifying 'project_id' other than the authenticated project",
            id="foreign-project",
        ),
        pytest.param(
            {"ikepolicy": {"pfs": "group1"}},
            "Invalid input for pfs. Reason: group1 is not in valid_values.",
            id="enum",
        ),
    ],
)
def test_create_bodies_refused_with_neutron_wording(doc: Any, message: str) -> None:
    with pytest.raises(errors.HTTPBadRequest) as exc:
        prepare_create(IKE, MEMBER, doc)
    assert message in exc.value.message


def test_required_attributes_are_reported_in_declaration_order() -> None:
    with pytest.raises(errors.HTTPBadRequest, match="Required attribute 'router_id'"):
        prepare_create(SERVICE, MEMBER, {"vpnservice": {}})


def test_admin_may_name_another_project_and_tenant_id_is_an_alias() -> None:
    prepared = prepare_create(IKE, ADMIN, {"ikepolicy": {"tenant_id": "other"}})
    assert prepared.values["project_id"] == "other"


def test_admin_without_project_must_name_one() -> None:
    with pytest.raises(errors.HTTPBadRequest, match="requires that project_id is specified"):
        prepare_create(IKE, NO_PROJECT_ADMIN, {"ikepolicy": {"name": "x"}})


def test_defaults_fill_and_lifetime_echoes_what_was_sent() -> None:
    prepared = prepare_create(IKE, MEMBER, {"ikepolicy": {"lifetime": {"value": "2000"}}})
    assert prepared.values["auth_algorithm"] == "sha256"
    assert prepared.values["lifetime"] == {"units": "seconds", "value": 2000}
    assert prepared.echo["lifetime"] == {"units": "seconds", "value": "2000"}


def test_legacy_catalog_defaults_to_sha1() -> None:
    legacy = catalog(legacy_crypto=True)["ikepolicy"]
    assert prepare_create(legacy, MEMBER, {"ikepolicy": {}}).values["auth_algorithm"] == "sha1"


def test_converter_failures_are_invalid_input() -> None:
    with pytest.raises(errors.InvalidInput, match="'perhaps' cannot be converted to boolean"):
        prepare_create(
            SERVICE,
            MEMBER,
            {
                "vpnservice": {
                    "router_id": "9e1fd3a6-1f2b-4c1e-9d57-0c5d9b1d8d11",
                    "admin_state_up": "perhaps",
                }
            },
        )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param(
            {"ikepolicy": {"project_id": "p"}},
            "Cannot update read-only attribute project_id",
            id="project",
        ),
        pytest.param(
            {"ikepolicy": {"tenant_id": "p"}},
            "Cannot update read-only attribute tenant_id",
            id="tenant",
        ),
        pytest.param({"ikepolicy": {"id": "p"}}, "Cannot update read-only attribute id", id="id"),
    ],
)
def test_read_only_attributes_refused_on_update(doc: Any, message: str) -> None:
    with pytest.raises(errors.HTTPBadRequest, match=message):
        prepare_update(IKE, doc)


def test_update_merges_lifetime_over_the_stored_value() -> None:
    prepared = prepare_update(IKE, {"ikepolicy": {"lifetime": {"value": 7200}}})
    merge_update(IKE, prepared, {"lifetime": {"units": "seconds", "value": 3600}})
    assert prepared.values["lifetime"] == {"units": "seconds", "value": 7200}


@pytest.mark.parametrize("raw", [b"{", b"\xff", b'"\\ud800"', b"[1,]"])
def test_bad_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(errors.MalformedRequestBody):
        load_json(raw)
