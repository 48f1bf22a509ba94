"""A ``policy.yaml`` override changes the answer without a restart (noauth
mode, in process); see :func:`tests.support.matrix.run_policy_override`."""

from __future__ import annotations

from pathlib import Path

from falcon import testing

from tests.support import matrix


def test_policy_file_edits_apply_without_restart(tmp_path: Path) -> None:
    policy = matrix.PolicyFile(tmp_path / "policy.yaml")
    policy.write({})
    world = matrix.noauth_world(tmp_path, policy_file=policy.path)
    try:
        matrix.run_policy_override(world, policy)
    finally:
        world.close()


def test_a_rule_on_the_user_keeps_cached_answers_apart(tmp_path: Path) -> None:
    """Two members of one project with a rule that lets only one of them
    read: neither gets the other's answers, the second time (from the
    caches) either."""
    policy = matrix.PolicyFile(tmp_path / "policy.yaml")
    policy.write({"get_ikepolicy": "user_id:alice"})
    app, _public = matrix.serve(tmp_path, policy_file=policy.path)
    client = testing.TestClient(app)
    alice = {"X-Project-Id": "project", "X-User-Id": "alice"}
    bob = {"X-Project-Id": "project", "X-User-Id": "bob"}
    made = client.simulate_post(
        "/v2.0/vpn/ikepolicies", json={"ikepolicy": {"name": "a"}}, headers=alice
    )
    assert made.status_code == 201, made.text
    policy_id = made.json["ikepolicy"]["id"]
    for _ in range(2):
        for who, visible in ((alice, [policy_id]), (bob, [])):
            listed = client.simulate_get("/v2.0/vpn/ikepolicies", headers=who)
            assert [p["id"] for p in listed.json["ikepolicies"]] == visible
            shown = client.simulate_get(f"/v2.0/vpn/ikepolicies/{policy_id}", headers=who)
            assert shown.status_code == (200 if visible else 404)
