"""The agent API in ``keystone`` mode: the same token validation as the API
(keystonemiddleware against a real Keystone), and the ``service`` or
``admin`` role required, as docs/agent-protocol.md says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from falcon import testing

from tests.support.keystone import Accounts, Keystone, render_ini
from vpnaas.app import create_agent_app, create_app
from vpnaas.db.tables import schema
from vpnaas.settings import load

pytestmark = pytest.mark.slow

STATE = "/agent/v1/state"


@pytest.fixture(scope="module")
def agents(
    keystone: Keystone, keystone_accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[testing.TestClient]:
    workdir: Path = tmp_path_factory.mktemp("agent-keystone")
    ini = workdir / "vpnaas.conf"
    config = {
        "DEFAULT": {"auth_strategy": "keystone"},
        "database": {"connection": f"sqlite:///{workdir / 'vpnaas.sqlite'}"},
        "vpnaas": {"driver": "strongswan"},
        "keystone_authtoken": keystone.authtoken_options(keystone_accounts.service),
    }
    ini.write_text(render_ini(config), encoding="utf-8")
    settings = load([str(ini)])
    api = create_app(settings)
    schema().metadata.create_all(api.db.engine)
    app = create_agent_app(settings)
    try:
        yield testing.TestClient(app)
    finally:
        app.close()
        api.db.dispose()


def test_the_service_user_pulls_the_state(
    agents: testing.TestClient, keystone: Keystone, keystone_accounts: Accounts
) -> None:
    token = keystone.token(keystone_accounts.service)
    result = agents.simulate_get(
        STATE, params={"host": "gw", "router": "r1"}, headers={"X-Auth-Token": token}
    )
    assert result.status_code == 200, result.text
    assert result.json["routers"] == [{"id": "r1", "local_address": None, "services": []}]


def test_an_admin_reports(
    agents: testing.TestClient, keystone: Keystone, keystone_accounts: Accounts
) -> None:
    token = keystone.token(keystone_accounts.b_admin)
    result = agents.simulate_post(
        "/agent/v1/reports", json={"host": "gw"}, headers={"X-Auth-Token": token}
    )
    assert result.status_code == 200, result.text


def test_a_member_is_refused(
    agents: testing.TestClient, keystone: Keystone, keystone_accounts: Accounts
) -> None:
    token = keystone.token(keystone_accounts.a_member)
    result = agents.simulate_get(STATE, params={"host": "gw"}, headers={"X-Auth-Token": token})
    assert result.status_code == 403
    assert result.json["NeutronError"]["type"] == "AgentAPIForbidden"


def test_no_token_is_401(agents: testing.TestClient) -> None:
    assert agents.simulate_get(STATE, params={"host": "gw"}).status_code == 401


def test_identity_headers_without_a_token_are_ignored(agents: testing.TestClient) -> None:
    headers = {"X-Roles": "admin", "X-Project-Id": "p"}
    assert agents.simulate_get(STATE, params={"host": "gw"}, headers=headers).status_code == 401
