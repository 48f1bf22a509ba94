"""The Keystone harness works: tokens, projects, roles, catalog, authtoken config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg

from tests.support.keystone import REGION, Accounts, Keystone, User

pytestmark = pytest.mark.slow


def test_keystone_answers_v3(keystone: Keystone) -> None:
    assert keystone.running
    assert keystone.version.startswith("v3.")
    assert keystone.timings["start"] < 60


def test_project_token_issued_and_validated(
    keystone: Keystone, keystone_accounts: Accounts
) -> None:
    acc = keystone_accounts
    token = keystone.issue_token(acc.a_member)
    assert token.project_id == acc.project_a.id
    assert token.id.startswith("gAAAAA")  # fernet

    checked = keystone.validate_token(token.id)
    assert checked is not None
    assert checked.body["token"]["user"]["id"] == acc.a_member.id
    assert checked.project_id == acc.project_a.id
    assert checked.roles == {"member", "reader"}


def test_service_user_may_validate_tokens(keystone: Keystone, keystone_accounts: Accounts) -> None:
    """Role ``service`` alone is enough for ``identity:validate_token``."""
    acc = keystone_accounts
    service_token = keystone.token(acc.service)
    checked = keystone.validate_token(keystone.token(acc.b_reader), token=service_token)
    assert checked is not None
    assert checked.project_id == acc.project_b.id
    # ... and a plain member may not validate someone else's token
    resp = keystone.request(
        "GET",
        "/auth/tokens",
        token=keystone.token(acc.a_member),
        headers={"X-Subject-Token": keystone.token(acc.b_reader)},
    )
    assert resp.status_code == 403


def test_two_projects(keystone: Keystone, keystone_accounts: Accounts) -> None:
    acc = keystone_accounts
    assert acc.project_a.id != acc.project_b.id
    assert keystone.issue_token(acc.b_member).project_id == acc.project_b.id
    # no role on B: scoping there is refused
    resp = keystone._http.post(
        f"{keystone.auth_url}/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "id": acc.a_member.id,
                            "password": acc.a_member.password,
                        }
                    },
                },
                "scope": {"project": {"id": acc.project_b.id}},
            }
        },
    )
    assert resp.status_code == 401


def test_implied_role_chain(keystone: Keystone, keystone_accounts: Accounts) -> None:
    """bootstrap makes admin => manager => member => reader; tokens carry the closure."""
    rules = keystone.implied_roles()
    assert "member" in rules["manager"] or "member" in rules["admin"]
    assert rules["member"] == {"reader"}

    acc = keystone_accounts
    roles = {u.name: keystone.issue_token(u).roles for u in (acc.a_admin, acc.a_reader)}
    assert {"admin", "member", "reader"} <= roles["a-admin"]
    assert roles["a-reader"] == {"reader"}


def test_system_scoped_token(keystone: Keystone, keystone_accounts: Accounts) -> None:
    token = keystone.issue_token(system=True)
    assert token.body["token"]["system"] == {"all": True}
    assert "admin" in token.roles
    assert keystone.validate_token(token.id) is not None
    # a system admin lists users; a project member may not
    users = keystone.request("GET", "/users", token=token.id, expect=200).json()["users"]
    assert keystone_accounts.a_member.id in {u["id"] for u in users}
    member = keystone.token(keystone_accounts.a_member)
    assert keystone.request("GET", "/users", token=member).status_code == 403


def test_network_catalog_entry(keystone: Keystone, keystone_accounts: Accounts) -> None:
    # a type of its own: the session's Keystone is shared, and a keystone-mode
    # vpnaas of another suite may be the catalog's ``network`` meanwhile
    kind, name = "network-harness-test", "neutron-harness-test"
    first = keystone.register_service("http://127.0.0.1:1/", service_type=kind, name=name)
    # a restarted vpnaas
    again = keystone.register_service("http://127.0.0.1:2/", service_type=kind, name=name)
    assert first == again

    catalog = keystone.issue_token(keystone_accounts.b_member).catalog
    network = [s for s in catalog if s["type"] == kind]
    assert len(network) == 1
    endpoints = {(e["interface"], e["region_id"], e["url"]) for e in network[0]["endpoints"]}
    assert endpoints == {
        (i, REGION, "http://127.0.0.1:2/") for i in ("public", "internal", "admin")
    }
    identity = [s for s in catalog if s["type"] == "identity"]
    assert identity[0]["endpoints"][0]["url"] == keystone.auth_url


def test_garbage_token_rejected(keystone: Keystone) -> None:
    garbage = keystone.garbage_token()
    assert keystone.validate_token(garbage) is None
    assert keystone.request("GET", "/projects", token=garbage).status_code == 401


@pytest.fixture(scope="module")
def expired(keystone: Keystone, keystone_accounts: Accounts) -> str:
    """A real token of a-member that has expired (takes about 2.5 s to make)."""
    return keystone.expired_token(keystone_accounts.a_member)


def test_expired_token_rejected(keystone: Keystone, expired: str) -> None:
    assert keystone.validate_token(expired) is None
    assert keystone.request("GET", "/auth/projects", token=expired).status_code == 401


# -- keystonemiddleware with the rendered [keystone_authtoken] -----------------


@pytest.fixture
def protected(keystone: Keystone, keystone_accounts: Accounts, tmp_path: Path) -> Iterator[Any]:
    """An in-process WSGI app behind ``auth_token`` configured by the harness."""
    from keystonemiddleware import auth_token

    conf_file = tmp_path / "vpnaas.conf"
    conf_file.write_text(keystone.authtoken_config(keystone_accounts.service), encoding="utf-8")
    conf = cfg.ConfigOpts()
    conf([], project="vpnaas", default_config_files=[str(conf_file)], default_config_dirs=[])

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen = {k: environ.get(k) for k in ("HTTP_X_PROJECT_ID", "HTTP_X_ROLES", "HTTP_X_USER_ID")}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(seen).encode()]

    yield auth_token.AuthProtocol(app, {"oslo_config_config": conf})
    conf.reset()


def _call(wsgi: Any, token: str | None) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/v2.0/vpn/vpnservices",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "9696",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
    }
    if token is not None:
        environ["HTTP_X_AUTH_TOKEN"] = token
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        got.update(status=status, headers=dict(headers))

    body = b"".join(wsgi(environ, start_response))
    return got["status"], got["headers"], body


def test_authtoken_config_section(keystone: Keystone, keystone_accounts: Accounts) -> None:
    text = keystone.authtoken_config(keystone_accounts.service)
    assert text.startswith("[keystone_authtoken]\n")
    assert f"www_authenticate_uri = {keystone.url}\n" in text
    assert "auth_type = password\n" in text
    assert "username = vpnaas\n" in text
    assert "memcached_servers" not in text


def test_keystonemiddleware_accepts_and_rejects(
    protected: Any, keystone: Keystone, keystone_accounts: Accounts, expired: str
) -> None:
    member: User = keystone_accounts.a_member
    status, _, body = _call(protected, keystone.token(member))
    assert status.startswith("200"), body
    seen = json.loads(body)
    assert seen["HTTP_X_PROJECT_ID"] == keystone_accounts.project_a.id
    assert set(seen["HTTP_X_ROLES"].split(",")) == {"member", "reader"}

    for token in (None, keystone.garbage_token(), expired):
        status, headers, _ = _call(protected, token)
        assert status.startswith("401")
        assert headers["WWW-Authenticate"] == f'Keystone uri="{keystone.url}"'
