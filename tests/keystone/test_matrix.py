"""The authorization matrix (:mod:`tests.support.matrix`) in ``keystone``
mode: every actor is a real token from a real Keystone, validated by
keystonemiddleware over loopback. Also what only this mode has: missing,
garbage and expired tokens (401 from the middleware), the open version
document, and identity headers a client sends itself (ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import matrix
from tests.support.keystone import Accounts, Keystone

pytestmark = pytest.mark.slow

#: what keystonemiddleware answers without a valid token (docs/api/common.md §identity)
UNAUTHORIZED = {
    "error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
}


def keystone_headers(keystone: Keystone, acc: Accounts) -> dict[str, dict[str, str]]:
    """One token per actor: members, reader and admin by project, and the
    bootstrap admin's system-scoped token."""
    tokens = {
        matrix.OWNER: keystone.token(acc.a_member),
        matrix.READER: keystone.token(acc.a_reader),
        matrix.OTHER: keystone.token(acc.b_member),
        matrix.ADMIN: keystone.token(acc.b_admin),
        matrix.SYSTEM: keystone.system_token(),
    }
    return {actor: {"X-Auth-Token": token} for actor, token in tokens.items()}


def keystone_world(
    keystone: Keystone, acc: Accounts, workdir: Path
) -> tuple[matrix.World, matrix.PolicyFile]:
    """A keystone-mode vpnaas in ``workdir`` validating tokens as the
    ``vpnaas`` service user, and its (empty) policy file."""
    policy = matrix.PolicyFile(workdir / "policy.yaml")
    policy.write({})
    app, public = matrix.serve(
        workdir,
        auth_strategy="keystone",
        sections={"keystone_authtoken": keystone.authtoken_options(acc.service)},
        policy_file=policy.path,
    )
    world = matrix.World(
        app=app,
        headers=keystone_headers(keystone, acc),
        project_a=acc.project_a.id,
        project_b=acc.project_b.id,
        public_network=public,
    )
    return world, policy


@pytest.fixture(scope="module")
def world(
    keystone: Keystone, keystone_accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[matrix.World]:
    workdir = tmp_path_factory.mktemp("matrix-keystone")
    world, _ = keystone_world(keystone, keystone_accounts, workdir)
    yield matrix.build(world)
    world.close()


@pytest.mark.parametrize("row", matrix.params())
def test_matrix(world: matrix.World, row: matrix.Row) -> None:
    matrix.run_row(world, row)


# -- without a valid token ------------------------------------------------------


@pytest.fixture(scope="module")
def expired(keystone: Keystone, keystone_accounts: Accounts) -> str:
    """A real token of a-member that has expired (about 2.5 s to make)."""
    return keystone.expired_token(keystone_accounts.a_member)


def _credentials(keystone: Keystone, expired: str) -> dict[str, dict[str, str]]:
    return {
        "none": {},
        "garbage": {"X-Auth-Token": keystone.garbage_token()},
        "expired": {"X-Auth-Token": expired},
    }


@pytest.mark.parametrize("credential", ["none", "garbage", "expired"])
@pytest.mark.parametrize("resource", list(matrix.KINDS))
def test_invalid_token_is_401(
    world: matrix.World, keystone: Keystone, expired: str, resource: str, credential: str
) -> None:
    """List, show, create, update and delete: 401 from keystonemiddleware,
    before vpnaas sees the request (docs/api/common.md §identity)."""
    kind = matrix.KINDS[resource]
    headers = _credentials(keystone, expired)[credential]
    member = f"{kind.path}/{world.objects[resource]}"
    calls: list[tuple[str, str, Any]] = [
        ("GET", kind.path, None),
        ("GET", member, None),
        ("POST", kind.path, {kind.member: {"name": "x"}}),
        ("PUT", member, {kind.member: {"name": "x"}}),
        ("DELETE", member, None),
    ]
    for method, path, body in calls:
        got = world.client.simulate_request(method, path, headers=headers, json=body)
        assert got.status_code == 401, f"{method} {path}: {got.status} {got.text}"
        assert got.json == UNAUTHORIZED, got.text
        assert got.headers["WWW-Authenticate"] == f'Keystone uri="{keystone.url}"'
    assert world.call(matrix.OWNER, "GET", member).status_code == 200


@pytest.mark.parametrize("credential", ["none", "garbage", "expired"])
def test_version_document_needs_no_token(
    world: matrix.World, keystone: Keystone, expired: str, credential: str
) -> None:
    headers = _credentials(keystone, expired)[credential]
    got = world.client.simulate_get("/", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json["versions"][0]["id"] == "v2.0"


def test_identity_headers_from_the_client_are_ignored(world: matrix.World) -> None:
    """keystonemiddleware replaces X-Project-Id/X-Roles with the token's: a
    reader claiming to be project B's admin is still project A's reader."""
    reader = dict(world.headers[matrix.READER])
    forged = {**reader, "X-Project-Id": world.project_b, "X-Roles": "admin", "X-User-Id": "x"}
    ike = matrix.KINDS["ikepolicy"]
    got = world.client.simulate_get(ike.path, headers=forged)
    assert got.status_code == 200, got.text
    assert got.json["ikepolicies"] == []
    got = world.client.simulate_post(ike.path, headers=forged, json={"ikepolicy": {"name": "x"}})
    assert got.status_code == 403, got.text
    assert got.json["NeutronError"]["type"] == "PolicyNotAuthorized"
    got = world.client.simulate_get("/v2.0/networks", headers=forged)
    assert world.objects["network"] in {n["id"] for n in got.json["networks"]}
