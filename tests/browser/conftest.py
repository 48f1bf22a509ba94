"""The console in a real browser: Playwright (from PyPI) driving Debian's
``chromium`` through ``executable_path`` (``playwright install`` is never
run: it downloads browsers).

One ``vpnaas serve`` (noauth) and one browser serve the whole session; each
test gets a fresh browser context (its own cookies) and builds its own
project's topology through the JSON API. Screenshots go to
``test-artifacts/screenshots/`` (git-ignored); ``VPNAAS_SCREENSHOTS``
names another folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("VPNAAS_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"no chromium at {CHROMIUM} (.ci/run installs Debian's package)")
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            launched.close()


#: the operator lets readers read VPN objects (Neutron's defaults need member)
READER_POLICY = "".join(
    f'"get_{member}": "(rule:admin_only) or (role:reader and project_id:%(project_id)s)"\n'
    for member in (
        "ipsec_site_connection",
        "vpnservice",
        "ikepolicy",
        "ipsecpolicy",
        "endpoint_group",
    )
)


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("console")
    policy = workdir / "policy.yaml"
    policy.write_text(READER_POLICY, encoding="utf-8")
    server = start_server(workdir, config={"oslo_policy": {"policy_file": str(policy)}})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    p = context.new_page()
    p.set_default_timeout(15000)
    return p


def screenshot(page: Page, name: str) -> Path:
    """Save the page as ``<name>.png`` among the test artifacts."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Project:
    """A project with a router (gateway on ``public``) and a subnet behind it."""

    server: ServerProcess
    id: str
    router: dict[str, Any]
    subnet: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Project-Id": self.id, "X-Roles": "member"}

    def api(self, method: str, path: str, body: Any = None) -> Any:
        res = self.server.request(method, path, body, headers=self.headers)
        assert res.status < 400, f"{method} {path}: {res.status} {res.body}"
        return res.body

    def connection(self, name: str, psk: str = "initial-key") -> dict[str, Any]:
        """A whole connection (service, policies, groups) made through the API."""
        tag = uuid.uuid4().hex[:6]
        svc = self.api(
            "POST",
            "v2.0/vpn/vpnservices",
            {"vpnservice": {"name": f"svc-{tag}", "router_id": self.router["id"]}},
        )["vpnservice"]
        ike = self.api("POST", "v2.0/vpn/ikepolicies", {"ikepolicy": {"name": f"ike-{tag}"}})[
            "ikepolicy"
        ]
        ipsec = self.api(
            "POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"name": f"ipsec-{tag}"}}
        )["ipsecpolicy"]
        local = self.api(
            "POST",
            "v2.0/vpn/endpoint-groups",
            {
                "endpoint_group": {
                    "name": f"local-{tag}",
                    "type": "subnet",
                    "endpoints": [self.subnet["id"]],
                }
            },
        )["endpoint_group"]
        peer = self.api(
            "POST",
            "v2.0/vpn/endpoint-groups",
            {
                "endpoint_group": {
                    "name": f"peer-{tag}",
                    "type": "cidr",
                    "endpoints": ["10.99.0.0/24"],
                }
            },
        )["endpoint_group"]
        body = {
            "name": name,
            "vpnservice_id": svc["id"],
            "ikepolicy_id": ike["id"],
            "ipsecpolicy_id": ipsec["id"],
            "local_ep_group_id": local["id"],
            "peer_ep_group_id": peer["id"],
            "peer_address": "198.51.100.7",
            "peer_id": "198.51.100.7",
            "psk": psk,
        }
        conn: dict[str, Any] = self.api(
            "POST", "v2.0/vpn/ipsec-site-connections", {"ipsec_site_connection": body}
        )["ipsec_site_connection"]
        return conn


@pytest.fixture
def project(console_server: ServerProcess) -> Project:
    """A fresh project with its own network, subnet and router."""
    return new_project(console_server)


def new_project(server: ServerProcess) -> Project:
    """A fresh project of ``server`` with its own network, subnet and router."""
    pid = uuid.uuid4().hex
    third = int(pid[:2], 16)
    proj = Project(server, pid, {}, {})
    net = proj.api("POST", "v2.0/networks", {"network": {"name": "lan"}})["network"]
    proj.subnet = proj.api(
        "POST",
        "v2.0/subnets",
        {
            "subnet": {
                "network_id": net["id"],
                "cidr": f"10.{third}.1.0/24",
                "ip_version": 4,
                "name": "lan-subnet",
            }
        },
    )["subnet"]
    proj.router = proj.api(
        "POST",
        "v2.0/routers",
        {
            "router": {
                "name": "gw",
                "external_gateway_info": {"network_id": server.public_network_id},
            }
        },
    )["router"]
    proj.api(
        "PUT",
        f"v2.0/routers/{proj.router['id']}/add_router_interface",
        {"subnet_id": proj.subnet["id"]},
    )
    return proj


def login(page: Page, server: ServerProcess, project: str, roles: str = "member") -> None:
    """Log in through the noauth form."""
    page.goto(server.url + "ui/login")
    page.fill("#project", project)
    page.fill("#roles", roles)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/connections")
