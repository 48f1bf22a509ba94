"""``[oslo_policy] enforce_new_defaults = False``: the deprecated legacy rules
apply too (``docs/api/policy.md`` §legacy): any authenticated user may create, and the owner
may read whatever its roles."""

from __future__ import annotations

from pathlib import Path

from falcon import testing

from tests.support import matrix

READER = {"X-Project-Id": "legacy-project", "X-Roles": "reader"}
OTHER = {"X-Project-Id": "another-project", "X-Roles": "reader"}


def _client(tmp_path: Path, enforce_new_defaults: bool) -> testing.TestClient:
    sections = {"oslo_policy": {
        "policy_file": str(tmp_path / "policy.yaml"),
        "enforce_new_defaults": str(enforce_new_defaults).lower(),
    }}  # fmt: skip
    app, _public = matrix.serve(tmp_path, sections=sections)
    return testing.TestClient(app)


def test_legacy_rules_let_a_reader_create_and_read_its_own(tmp_path: Path) -> None:
    client = _client(tmp_path, enforce_new_defaults=False)
    made = client.simulate_post(
        "/v2.0/vpn/ikepolicies", json={"ikepolicy": {"name": "r"}}, headers=READER
    )
    assert made.status_code == 201, made.text
    policy = made.json["ikepolicy"]["id"]
    listed = client.simulate_get("/v2.0/vpn/ikepolicies", headers=READER)
    assert [p["id"] for p in listed.json["ikepolicies"]] == [policy]
    assert client.simulate_get(f"/v2.0/vpn/ikepolicies/{policy}", headers=READER).status_code == 200
    shown = client.simulate_get(f"/v2.0/vpn/ikepolicies/{policy}", headers=OTHER)
    assert shown.json["NeutronError"]["type"] == "IKEPolicyNotFound"


def test_new_defaults_refuse_the_same_reader(tmp_path: Path) -> None:
    client = _client(tmp_path, enforce_new_defaults=True)
    made = client.simulate_post(
        "/v2.0/vpn/ikepolicies", json={"ikepolicy": {"name": "r"}}, headers=READER
    )
    assert made.status_code == 403
    assert made.json["NeutronError"]["type"] == "PolicyNotAuthorized"
