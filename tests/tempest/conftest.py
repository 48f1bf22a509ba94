"""A real Keystone and a keystone-mode ``vpnaas serve`` in its catalog.

``keystone`` is the session Keystone of :mod:`tests.conftest`, shared with
the other suites (the tests skip if its virtualenv cannot be built). ``keystone_vpnaas`` starts
vpnaas with ``auth_strategy = keystone``, validating tokens as a service user
of its own (role ``service`` on project ``service``), with the seeded external
network owned by Keystone's ``admin`` project and its id fixed before the
server starts; the server's unversioned root is registered in the catalog as
``network`` (all three interfaces). Both are stopped by the PIDs started here
at the end of the session.

The server log written while a test ran is attached to its failure report;
timings and the tempest summary are printed at the end of the session.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.support.keystone import Keystone, Project, User
from tests.support.server import ServerProcess, start_server

__all__ = ["KeystoneVpnaas", "keystone_vpnaas"]

#: lines for the terminal summary (tempest summary line, timings)
SUMMARY: list[str] = []

_LOG_OFFSET = pytest.StashKey[int]()


@dataclass
class KeystoneVpnaas:
    """vpnaas in keystone mode, registered in ``keystone``'s catalog."""

    keystone: Keystone
    server: ServerProcess
    service_user: User
    admin_project: Project
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def public_network_id(self) -> str:
        return self.server.public_network_id

    def extensions(self) -> list[str]:
        """The aliases vpnaas lists at ``GET /v2.0/extensions`` (asked with a
        Keystone admin token): what ``tempest.conf`` declares as enabled."""
        token = self.keystone.token()
        resp = self.server.request("GET", "v2.0/extensions", headers={"X-Auth-Token": token})
        assert resp.status == 200, f"GET /v2.0/extensions: {resp.status} {resp.body!r}"
        return sorted(ext["alias"] for ext in resp.body["extensions"])

    def log_excerpt(self, start: int = 0, lines: int = 80) -> str:
        """The last ``lines`` lines the server wrote after byte ``start``."""
        text = self.server.log(start).rstrip()
        alive = "running" if self.server.alive() else f"exited {self.server.process.returncode}"
        tail = "\n".join(text.splitlines()[-lines:]) if text else "(nothing logged)"
        return (
            f"--- vpnaas server log ({alive}, {self.server.log_path}), last {lines} lines\n{tail}"
        )


@pytest.fixture(scope="session")
def keystone_vpnaas(
    keystone: Keystone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KeystoneVpnaas]:
    began = time.monotonic()
    service_project = keystone.find_project("service") or keystone.create_project("service")
    admin_project = keystone.find_project("admin")
    assert admin_project is not None, "keystone bootstrap made no admin project"
    service_user = keystone.create_user(
        f"vpnaas-{uuid.uuid4().hex[:8]}", service_project, ["service"]
    )
    config = {
        "DEFAULT": {"auth_strategy": "keystone"},
        "keystone_authtoken": keystone.authtoken_options(service_user),
        "topology": {
            "external_network_id": str(uuid.uuid4()),
            "admin_project_id": admin_project.id,
        },
    }
    server = start_server(tmp_path_factory.mktemp("vpnaas-keystone"), config=config)
    try:
        started = time.monotonic()
        keystone.register_service(server.url)
        yield KeystoneVpnaas(
            keystone=keystone,
            server=server,
            service_user=service_user,
            admin_project=admin_project,
            timings={"vpnaas start": started - began},
        )
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _server_log_offset(request: pytest.FixtureRequest) -> None:
    if "keystone_vpnaas" in request.fixturenames:
        env: KeystoneVpnaas = request.getfixturevalue("keystone_vpnaas")
        request.node.stash[_LOG_OFFSET] = env.server.log_size()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    env = getattr(item, "funcargs", {}).get("keystone_vpnaas")
    if report.failed and isinstance(env, KeystoneVpnaas) and _LOG_OFFSET in item.stash:
        report.sections.append(("vpnaas server log", env.log_excerpt(item.stash[_LOG_OFFSET])))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in SUMMARY:
        terminalreporter.write_line(line)
