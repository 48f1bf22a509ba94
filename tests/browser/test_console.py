"""The console's workflows, one test each, in Debian's chromium."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Project, login, screenshot
from tests.support.server import ServerProcess
from vpnaas.db.engine import Database
from vpnaas.db.tables import schema
from vpnaas.drivers import StatusWriter
from vpnaas.spec import catalog
from vpnaas.spec.vpn import ACTIVE, DOWN

pytestmark = pytest.mark.slow

CONNECTIONS = "v2.0/vpn/ipsec-site-connections"


def set_status(server: ServerProcess, connection_id: str, status: str) -> None:
    """Change a connection's status as a data-plane driver does (the null
    driver never would), through the server's database."""
    db = Database(f"sqlite:///{server.workdir / 'vpnaas.sqlite'}")
    try:
        StatusWriter(db, schema(), catalog()).set("ipsec_site_connection", connection_id, status)
    finally:
        db.dispose()


def test_noauth_login_marks_every_page_and_logout_ends_the_session(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    page.goto(console_server.url + "ui/connections")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    expect(page.get_by_role("note")).to_contain_text("noauth: development only")
    login(page, console_server, project.id)
    for tab in ("VPN services", "IKE policies", "Connections"):
        page.get_by_role("link", name=tab).click()
        expect(page.get_by_role("note")).to_contain_text("noauth: development only")
        expect(page.locator("header")).to_contain_text(f"project {project.id}")
    cookie = next(c for c in page.context.cookies() if c["name"] == "vpnaas_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/ui/"
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    old = {"name": cookie["name"], "value": cookie["value"], "url": console_server.url + "ui/"}
    page.context.add_cookies([old])  # type: ignore[list-item]  # the old id is worth nothing now
    page.goto(console_server.url + "ui/connections")
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def test_the_json_api_never_accepts_the_session_cookie(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    project.connection("mine")
    login(page, console_server, project.id)
    cookie = next(c for c in page.context.cookies() if c["name"] == "vpnaas_session")
    res = console_server.request(
        "GET",
        CONNECTIONS,
        headers={"Cookie": f"vpnaas_session={cookie['value']}", "X-Roles": "reader"},
    )
    assert res.status == 200
    assert res.body[CONNECTIONS.rsplit("/", 1)[1].replace("-", "_")] == []


def test_create_a_whole_vpn_from_empty_through_the_form(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    login(page, console_server, project.id)
    expect(page.locator("#empty")).to_be_visible()
    page.get_by_role("link", name="New connection").click()
    page.fill("#name", "to-branch")
    page.fill("#peer_address", "198.51.100.7")
    page.fill("#peer_id", "198.51.100.7")
    page.click("#psk-generate")
    generated = page.input_value("#psk")
    assert len(generated) >= 40
    for select in ("vpnservice_id", "ikepolicy_id", "ipsecpolicy_id", "local_ep_group_id"):
        assert page.input_value(f"#{select}") == "new"  # nothing exists yet
    page.fill("#svc-name", "branch-vpn")
    page.select_option("#svc-router_id", project.router["id"])
    page.fill("#ike-name", "ike-strong")
    page.select_option("#ike-ike_version", "v2")
    page.select_option("#ike-encryption_algorithm", "aes-256")
    page.select_option("#ike-pfs", "group14")
    page.fill("#ipsec-name", "esp-strong")
    page.select_option("#ipsec-encryption_algorithm", "aes-256")
    page.fill("#local-name", "office")
    page.select_option("#local-subnets", project.subnet["id"])
    page.fill("#peer-name", "branch")
    page.fill("#peer-cidrs", "10.200.0.0/24, 10.201.0.0/24")
    page.fill("#dpd_interval", "120")  # not below the timeout: refused, beside the field
    page.fill("#dpd_timeout", "60")
    page.click("#save")
    expect(page.locator("#error-dpd")).to_contain_text("dpd_timeout is equal to or less")
    assert project.api("GET", "v2.0/vpn/ikepolicies")["ikepolicies"] == []  # nothing left behind
    page.fill("#dpd_interval", "30")
    page.fill("#dpd_timeout", "120")
    page.fill("#psk", generated)
    page.click("#save")
    expect(page.locator("h1")).to_contain_text("to-branch")
    expect(page.locator("#no-data-plane")).to_contain_text("No data plane")
    expect(page.locator("#tunnel")).to_contain_text(DOWN)
    (conn,) = project.api("GET", CONNECTIONS)["ipsec_site_connections"]
    assert conn["psk"] == generated
    assert conn["peer_address"] == "198.51.100.7"
    assert conn["dpd"] == {"action": "hold", "interval": 30, "timeout": 120}
    ike = project.api("GET", f"v2.0/vpn/ikepolicies/{conn['ikepolicy_id']}")["ikepolicy"]
    assert (ike["name"], ike["ike_version"], ike["pfs"]) == ("ike-strong", "v2", "group14")
    peer = project.api("GET", f"v2.0/vpn/endpoint-groups/{conn['peer_ep_group_id']}")
    assert peer["endpoint_group"]["endpoints"] == ["10.200.0.0/24", "10.201.0.0/24"]
    screenshot(page, "connection-detail")
    page.get_by_role("link", name="Connections").click()
    row = page.locator(f"#row-{conn['id']}")
    expect(row).to_contain_text("branch-vpn")
    expect(row).to_contain_text("IKE v2 aes-256/sha256 group14")
    expect(row).to_contain_text("10.200.0.0/24, 10.201.0.0/24")
    expect(row).to_contain_text(f"lan-subnet ({project.subnet['cidr']})")
    screenshot(page, "connections")


def test_edit_keeps_the_psk_when_left_blank(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("before", psk="kept-secret")
    login(page, console_server, project.id)
    page.goto(console_server.url + f"ui/connections/{conn['id']}/edit")
    assert page.input_value("#psk") == ""  # never sent to the browser
    assert "kept-secret" not in page.content()
    expect(page.locator("label[for=psk]")).to_contain_text("leave blank to keep")
    page.fill("#name", "after")
    page.fill("#mtu", "1400")
    page.click("#save")
    expect(page.locator("p.notice")).to_have_text("Saved.")
    stored = project.api("GET", f"{CONNECTIONS}/{conn['id']}")["ipsec_site_connection"]
    assert (stored["name"], stored["mtu"], stored["psk"]) == ("after", 1400, "kept-secret")
    page.goto(console_server.url + f"ui/connections/{conn['id']}/edit")
    page.fill("#psk", "replaced-secret")
    page.click("#save")
    expect(page.locator("p.notice")).to_have_text("Saved.")
    stored = project.api("GET", f"{CONNECTIONS}/{conn['id']}")["ipsec_site_connection"]
    assert stored["psk"] == "replaced-secret"


def test_delete_asks_for_confirmation_one_or_many(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    one = project.connection("one")
    two = project.connection("two")
    three = project.connection("three")
    login(page, console_server, project.id)
    page.goto(console_server.url + f"ui/connections/{one['id']}")
    page.get_by_role("link", name="Delete…").click()
    expect(page.locator("h1")).to_have_text("Delete connection?")
    assert project.api("GET", f"{CONNECTIONS}/{one['id']}")  # not yet
    page.click("#confirm-delete")
    expect(page.locator("p.notice")).to_have_text("Deleted.")
    page.get_by_label("Select two").check()
    page.get_by_label("Select three").check()
    page.click("#bulk-delete")
    expect(page.locator("main li")).to_have_count(2)
    assert len(project.api("GET", CONNECTIONS)["ipsec_site_connections"]) == 2
    page.click("#confirm-delete")
    expect(page.locator("#empty")).to_be_visible()
    assert project.api("GET", CONNECTIONS)["ipsec_site_connections"] == []
    del two, three


def test_a_used_policy_cannot_be_deleted_and_says_why(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("user-of-policy")
    login(page, console_server, project.id)
    page.get_by_role("link", name="IKE policies").click()
    row = page.locator(f"#row-{conn['ikepolicy_id']}")
    expect(row.get_by_role("button", name="Delete")).to_be_disabled()
    expect(row).to_contain_text("used by 1 connection: user-of-policy")
    row.get_by_role("link", name="user-of-policy").click()
    expect(page.locator("h1")).to_contain_text("user-of-policy")
    screenshot(page, "ikepolicies-in-use")


def test_a_status_change_appears_without_reload(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("watched")
    login(page, console_server, project.id)
    badge = page.locator(f"#status-{conn['id']}")
    expect(badge).to_have_text(DOWN)
    page.evaluate("window.__notReloaded = true")
    url = (
        console_server.config["DEFAULT"]["database_url"]
        if "DEFAULT" in console_server.config
        else None
    )
    db = Database(url or f"sqlite:///{console_server.workdir / 'vpnaas.sqlite'}")
    try:
        StatusWriter(db, schema(), catalog()).set("ipsec_site_connection", conn["id"], ACTIVE)
    finally:
        db.dispose()
    expect(badge).to_have_text(ACTIVE, timeout=15000)
    assert page.evaluate("window.__notReloaded") is True


class _Attacker:
    """Another origin on loopback serving a form that posts to the console."""

    def __init__(self, target: str) -> None:
        html = (
            "<!doctype html><form id=f method=post action='" + target + "'>"
            "<input name=confirm value=yes><input name=csrf_token value=guess></form>"
            "<script>document.getElementById('f').submit()</script>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def attacker_for(console_server: ServerProcess) -> Iterator[list[_Attacker]]:
    made: list[_Attacker] = []
    yield made
    for a in made:
        a.close()


def test_a_cross_site_post_is_refused(
    page: Page, console_server: ServerProcess, project: Project, attacker_for: list[_Attacker]
) -> None:
    conn = project.connection("target")
    login(page, console_server, project.id)
    attacker = _Attacker(console_server.url + f"ui/connections/{conn['id']}/delete")
    attacker_for.append(attacker)
    with page.expect_response(re.compile(r"/ui/connections/.*/delete$")) as answer:
        page.goto(attacker.url)
    assert answer.value.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    assert project.api("GET", f"{CONNECTIONS}/{conn['id']}")  # still there
    # the same origin without the session's token is refused too
    forged = page.request.post(
        console_server.url + f"ui/connections/{conn['id']}/delete",
        form={"confirm": "yes", "csrf_token": "guess"},
        headers={"Origin": console_server.url.rstrip("/")},
    )
    assert forged.status == 403
    assert project.api("GET", f"{CONNECTIONS}/{conn['id']}")


HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>&amp;'


def test_hostile_names_are_shown_as_text(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection(HOSTILE)
    project.api("POST", "v2.0/vpn/ikepolicies", {"ikepolicy": {"name": HOSTILE}})
    login(page, console_server, project.id)
    for path in ("ui/connections", f"ui/connections/{conn['id']}", "ui/ikepolicies"):
        page.goto(console_server.url + path)
        expect(page.locator("main")).to_contain_text(HOSTILE)
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
        assert page.evaluate("window.__pwned") is None


def test_a_reader_sees_no_write_buttons_and_forged_writes_are_403(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("read-only")
    login(page, console_server, project.id, roles="reader")
    expect(page.locator(f"#row-{conn['id']}")).to_be_visible()
    expect(page.get_by_role("link", name="New connection")).to_have_count(0)
    expect(page.locator("input[name=id]")).to_have_count(0)
    expect(page.locator("#bulk-delete")).to_have_count(0)
    page.goto(console_server.url + f"ui/connections/{conn['id']}")
    expect(page.locator("#edit")).to_have_count(0)
    expect(page.locator("#delete")).to_have_count(0)
    page.get_by_role("link", name="IKE policies").click()
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    origin = {"Origin": console_server.url.rstrip("/")}
    for path, form in [
        (f"ui/connections/{conn['id']}/delete", {"confirm": "yes"}),
        (f"ui/connections/{conn['id']}/edit", {"name": "mine now", "psk": ""}),
        ("ui/connections/new", {"name": "forged"}),
    ]:
        res = page.request.post(
            console_server.url + path, form={**form, "csrf_token": token}, headers=origin
        )
        assert res.status == 403, (path, res.status)
    stored = project.api("GET", f"{CONNECTIONS}/{conn['id']}")["ipsec_site_connection"]
    assert stored["name"] == "read-only"
    assert len(project.api("GET", CONNECTIONS)["ipsec_site_connections"]) == 1


def test_without_javascript_the_form_works_by_keyboard(
    browser: Browser, console_server: ServerProcess, project: Project
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        answer = page.goto(console_server.url + "ui/login")
        assert answer is not None
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        page.keyboard.press("Tab")  # the skip link first
        page.focus("#project")
        page.keyboard.type(project.id)
        page.keyboard.press("Tab")
        page.keyboard.press("Control+A")
        page.keyboard.type("member")
        page.keyboard.press("Enter")
        page.wait_for_url("**/ui/connections")
        assert page.locator("script:not([src])").count() == 0
        page.get_by_role("link", name="New connection").focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/ui/connections/new")
        expect(page.locator("#psk-generate")).to_be_hidden()  # needs JavaScript
        expect(page.locator("#svc-name")).to_be_visible()  # inline sections stay open
        page.fill("#name", "no-script")
        page.fill("#peer_address", "198.51.100.9")
        page.fill("#peer_id", "198.51.100.9")
        page.fill("#psk", "typed-by-hand")
        page.select_option("#svc-router_id", project.router["id"])
        page.select_option("#local-subnets", project.subnet["id"])
        page.fill("#peer-cidrs", "10.210.0.0/24")
        page.focus("#name")
        page.keyboard.press("Enter")  # submits the form
        expect(page.locator("p.notice")).to_have_text("Created.")
        expect(page.locator("#no-data-plane")).to_be_visible()
    finally:
        context.close()
    (conn,) = project.api("GET", CONNECTIONS)["ipsec_site_connections"]
    assert (conn["name"], conn["psk"]) == ("no-script", "typed-by-hand")


def test_an_unchanged_status_poll_is_a_304(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("polled")
    login(page, console_server, project.id)
    url = console_server.url + "ui/connections/status"
    first = page.request.get(url)
    assert first.status == 200
    assert f'id="status-{conn["id"]}"' in first.text()
    tag = first.headers["etag"]
    again = page.request.get(url, headers={"If-None-Match": tag})
    assert again.status == 304
    project.api("PUT", f"{CONNECTIONS}/{conn['id']}", {"ipsec_site_connection": {"mtu": 1400}})
    assert page.request.get(url, headers={"If-None-Match": tag}).status == 304  # same badges
    set_status(console_server, conn["id"], ACTIVE)
    changed = page.request.get(url, headers={"If-None-Match": tag})
    assert changed.status == 200


def test_an_admin_sees_every_project(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("someone-elses")
    login(page, console_server, "operators", roles="admin")
    expect(page.locator("header")).to_contain_text("all projects")
    page.fill("#f-name", "someone-elses")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]name=someone-elses"))
    expect(page.locator("#connections tbody tr")).to_have_count(1)
    row = page.locator(f"#row-{conn['id']}")
    expect(row).to_contain_text(project.id)
    page.get_by_role("link", name="IKE policies").click()
    expect(page.locator(f"#row-{conn['ikepolicy_id']}")).to_contain_text(project.id)


def test_download_the_peer_configuration_with_or_without_the_psk(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("to-partner", psk="partner-secret-42")
    login(page, console_server, project.id)
    page.goto(console_server.url + f"ui/connections/{conn['id']}")
    expect(page.locator("#no-data-plane")).to_be_visible()
    form = page.locator("#peer-config")
    form.locator("select[name=format]").select_option("libreswan")
    with page.expect_download() as info:
        form.get_by_role("button", name="Download peer configuration").click()
    download = info.value
    assert download.suggested_filename == f"vpn-{conn['id']}.ipsec.conf"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert f"conn vpn-{conn['id']}" in text
    assert "partner-secret-42" not in text
    form.locator("select[name=format]").select_option("swanctl")
    form.get_by_label("include the pre-shared key").check()
    with page.expect_download() as info:
        form.get_by_role("button", name="Download peer configuration").click()
    assert info.value.suggested_filename.endswith(".swanctl.conf")
    assert "secret = partner-secret-42" in Path(info.value.path()).read_text(encoding="utf-8")


def test_a_reader_downloads_no_psk(
    page: Page, console_server: ServerProcess, project: Project
) -> None:
    conn = project.connection("to-partner", psk="partner-secret-43")
    login(page, console_server, project.id, roles="reader")
    page.goto(console_server.url + f"ui/connections/{conn['id']}")
    expect(page.get_by_role("button", name="Download peer configuration")).to_be_visible()
    expect(page.get_by_label("include the pre-shared key")).to_have_count(0)
    path = f"ui/connections/{conn['id']}/peer-config?format=text&include_psk=true"
    res = page.request.get(console_server.url + path)
    assert res.status == 403
    assert "partner-secret-43" not in res.text()
