"""Logging in to the console with a real Keystone: a user name, password and
project give a token (keystoneauth1) that stays on the server; the page
carries no noauth banner, and a wrong password is refused on the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.keystone import Accounts, Keystone
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keystone_server(
    keystone: Keystone, keystone_accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("console-keystone"),
        config={
            "DEFAULT": {"auth_strategy": "keystone"},
            "keystone_authtoken": keystone.authtoken_options(keystone_accounts.service),
        },
    )
    try:
        yield server
    finally:
        server.stop()


def test_keystone_login_keeps_the_token_on_the_server(
    page: Page, keystone_server: ServerProcess, keystone_accounts: Accounts
) -> None:
    user = keystone_accounts.a_member
    assert user.project is not None
    health = keystone_server.request("GET", "healthcheck", headers={"Accept": "text/plain"})
    assert (health.status, health.body) == (200, "OK")  # no token needed
    page.goto(keystone_server.url + "ui/login")
    expect(page.get_by_role("note")).to_have_count(0)  # no noauth banner
    page.fill("#username", user.name)
    page.fill("#password", "not-" + user.password)
    page.fill("#project", user.project.name)
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("wrong")
    assert not [c for c in page.context.cookies() if c["name"] == "vpnaas_session"]
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/connections$"))
    expect(page.locator("header")).to_contain_text(f"{user.name} · project {user.project.id}")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "vpnaas_session"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie["value"])  # an opaque id, no token
    assert cookie["httpOnly"] is True
    token_made = keystone_server.request(
        "POST",
        "v2.0/vpn/ikepolicies",
        {"ikepolicy": {"name": "x"}},
        headers={"Cookie": f"vpnaas_session={cookie['value']}"},
    )
    assert token_made.status == 401  # the JSON API wants a token, never the cookie
    page.get_by_role("link", name="New connection").click()
    expect(page.locator("h1")).to_have_text("New IPsec site connection")
