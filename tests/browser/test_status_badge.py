"""A connection's status badge says since when and why, and says it live:
a server with the strongswan driver, an agent's report through the agent
API, and the list and detail pages in Debian's chromium."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Project, login, new_project
from tests.support.net import LOOPBACK, free_port
from tests.support.server import start_server
from vpnaas.spec.vpn import DOWN

pytestmark = pytest.mark.slow

HOST = "gw-badge"
REASON = "peer not responding"


class DataPlane:
    """A ``vpnaas serve --driver strongswan`` and its agent API."""

    def __init__(self, workdir: Path) -> None:
        self.agent_port = free_port()
        self.server = start_server(
            workdir,
            config={
                "vpnaas": {"driver": "strongswan"},
                "agent_api": {"bind_host": LOOPBACK, "bind_port": str(self.agent_port)},
            },
        )

    def agent(self, method: str, path: str, body: Any = None) -> Any:
        """The agent API, as an agent (the admin role) calls it."""
        req = urllib.request.Request(
            f"http://{LOOPBACK}:{self.agent_port}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "X-Roles": "admin", "X-Project-Id": "ops"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def report(self, router: str, conn_id: str, status: str, reason: str | None) -> None:
        """Report ``conn_id``'s status as ``HOST``'s agent would."""
        state = self.agent("GET", f"/agent/v1/state?host={HOST}&router={router}")
        (svc,) = state["routers"][0]["services"]
        (desired,) = [c for c in svc["connections"] if c["id"] == conn_id]
        entry = {"id": conn_id, "revision": desired["revision"], "status": status, "reason": reason}
        body = {"host": HOST, "routers": [router], "connections": [entry]}
        assert self.agent("POST", "/agent/v1/reports", body)["accepted"] == [conn_id]


@pytest.fixture(scope="module")
def dataplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    plane = DataPlane(tmp_path_factory.mktemp("dataplane"))
    try:
        yield plane
    finally:
        plane.server.stop()


def test_a_reported_status_shows_since_and_why_without_reload(
    page: Page, dataplane: DataPlane
) -> None:
    project: Project = new_project(dataplane.server)
    conn = project.connection("reported")
    login(page, dataplane.server, project.id)
    state = page.locator(f"#state-{conn['id']}")
    expect(state.locator("time")).to_have_count(0)  # never reported: no "since"
    page.evaluate("window.__notReloaded = true")
    dataplane.report(project.router["id"], conn["id"], DOWN, REASON)
    expect(page.locator(f"#status-{conn['id']}")).to_have_text(DOWN, timeout=15000)
    since = state.locator("time.since")
    expect(since).to_have_text(re.compile(r"^since (<1|\d+) min$"))
    expect(since).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"))
    expect(since).to_have_attribute("title", re.compile(r" UTC$"))
    expect(state.locator(".reason")).to_have_text(REASON)
    assert page.evaluate("window.__notReloaded") is True
    stamp = since.get_attribute("datetime")
    page.goto(dataplane.server.url + f"ui/connections/{conn['id']}")
    panel = page.locator("#tunnel-status")
    expect(panel.locator("time.since")).to_have_attribute("datetime", stamp or "")
    expect(panel.locator(".reason")).to_have_text(REASON)


def test_the_status_poll_changes_its_tag_when_the_reason_changes(
    page: Page, dataplane: DataPlane
) -> None:
    project = new_project(dataplane.server)
    conn = project.connection("polled")
    router = project.router["id"]
    dataplane.report(router, conn["id"], DOWN, REASON)
    login(page, dataplane.server, project.id)
    url = dataplane.server.url + "ui/connections/status"
    first = page.request.get(url)
    assert REASON in first.text()
    assert re.search(r'<time class="since" datetime="[^"]+"', first.text())
    tag = first.headers["etag"]
    assert page.request.get(url, headers={"If-None-Match": tag}).status == 304
    dataplane.report(router, conn["id"], DOWN, "authentication failed")  # same status
    changed = page.request.get(url, headers={"If-None-Match": tag})
    assert changed.status == 200
    assert "authentication failed" in changed.text()
    assert REASON not in changed.text()
