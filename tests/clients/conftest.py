"""Fixtures for the client suites: a real ``vpnaas serve`` process, reached by
the real openstacksdk and the real ``openstack`` CLI.

How clients authenticate is one :class:`Cloud` per auth mode (the ``cloud``
fixture is parametrized by mode). Only ``noauth`` exists today: the server
trusts ``X-Project-Id``/``X-User-Id``/``X-Roles``; the SDK sends them through
keystoneauth's ``Session(additional_headers=...)`` and the CLI, which cannot
add headers, goes through an :class:`~tests.support.server.IdentityProxy` on
loopback that adds them the way keystonemiddleware would. A keystone variant
adds a ``Cloud`` (password auth through a catalog) and a ``"keystone"`` entry
in :data:`AUTH_MODES`; the tests do not change.

The server log written while a test ran is attached to its failure report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.support import venvs
from tests.support.server import IdentityProxy, ServerProcess, start_server

#: auth modes every client test runs under (a keystone variant goes here)
AUTH_MODES = ["noauth"]

REPO = Path(__file__).resolve().parents[2]
#: The newest python-openstackclient: the one installed next to pytest.
OSC_NEWEST = Path(sys.executable).parent / "openstack"
#: A CLI whose ``--lifetime``/``--dpd`` work: python-openstackclient 10.1.0
#: with the python-neutronclient 13.0.0 ``vpn`` plugin (every
#: python-openstackclient release that ships ``openstack vpn ...``, 10.2.0 to
#: 10.5.0, hands osc-lib's list of dicts to a validator that wants a dict and
#: fails before sending). Built on first use in ``.venv-osc`` (or
#: ``$VPNAAS_OSC_VENV``); ``VPNAAS_OSC_PINNED=/path/to/openstack`` uses a
#: ready one instead.
OSC_PINNED_REQUIREMENTS = (
    "python-openstackclient==10.1.0",
    "python-neutronclient==13.0.0",
    "openstacksdk==4.22.0",
)
OSC_VENV = Path(os.environ.get("VPNAAS_OSC_VENV") or REPO / ".venv-osc")

_LOG_OFFSET = pytest.StashKey[int]()


@dataclass(frozen=True)
class Identity:
    """Who a client acts as; ``project_id=None`` is the noauth admin."""

    project_id: str | None
    user_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    roles: tuple[str, ...] = ("member", "reader")

    @classmethod
    def member(cls) -> Identity:
        return cls(project_id=uuid.uuid4().hex)

    @classmethod
    def admin(cls, project_id: str | None = None) -> Identity:
        return cls(project_id=project_id, roles=("admin", "member", "reader"))

    def headers(self) -> dict[str, str]:
        headers = {"X-User-Id": self.user_id, "X-Roles": ",".join(self.roles)}
        if self.project_id is not None:
            headers["X-Project-Id"] = self.project_id
        return headers


@dataclass
class CliResult:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr (OSC logs some failures to each)."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return (
            f"$ openstack {' '.join(self.args)}\n-> {self.returncode}\n"
            f"stdout: {self.stdout}\nstderr: {self.stderr}"
        )


class Cloud(Protocol):
    """How clients reach and authenticate to the server under test."""

    mode: str
    server: ServerProcess

    def connect(self, identity: Identity) -> Any:
        """An ``openstack.connection.Connection`` acting as ``identity``."""

    def clouds_yaml(self, identity: Identity, directory: Path) -> tuple[Path, str]:
        """Write a clouds.yaml for ``identity``; its path and cloud name."""

    def headers(self, identity: Identity) -> dict[str, str]:
        """What a raw HTTP client (gophercloud replay) sends to authenticate."""

    def wire(self, identity: Identity) -> IdentityProxy | None:
        """The recorder of what CLI clients of ``identity`` sent, if any."""

    def close(self) -> None: ...


class NoAuthCloud:
    """``auth_type: none`` with the server as endpoint; identity headers."""

    mode = "noauth"

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self._proxies: dict[Identity, IdentityProxy] = {}

    def connect(self, identity: Identity) -> Any:
        from keystoneauth1 import noauth, session
        from openstack import connection

        sess = session.Session(
            auth=noauth.NoAuth(endpoint=self.server.url), additional_headers=identity.headers()
        )
        return connection.Connection(session=sess)

    def headers(self, identity: Identity) -> dict[str, str]:
        return {"X-Auth-Token": "unused-in-noauth", **identity.headers()}

    def proxy(self, identity: Identity) -> IdentityProxy:
        if identity not in self._proxies:
            self._proxies[identity] = IdentityProxy(self.server, identity.headers())
        return self._proxies[identity]

    def wire(self, identity: Identity) -> IdentityProxy | None:
        return self.proxy(identity)

    def clouds_yaml(self, identity: Identity, directory: Path) -> tuple[Path, str]:
        path = directory / "clouds.yaml"
        cloud = {
            "clouds": {
                "vpnaas": {
                    "auth_type": "none",
                    "auth": {"endpoint": self.proxy(identity).url},
                }
            }
        }
        # JSON is YAML: no yaml dependency needed here
        path.write_text(json.dumps(cloud, indent=2), encoding="utf-8")
        return path, "vpnaas"

    def close(self) -> None:
        for proxy in self._proxies.values():
            proxy.close()
        self._proxies.clear()


def make_cloud(mode: str, server: ServerProcess) -> Cloud:
    if mode == "noauth":
        return NoAuthCloud(server)
    raise ValueError(f"unknown auth mode {mode}")


class Osc:
    """Runs the real ``openstack`` CLI as a subprocess against the server."""

    def __init__(self, cloud: Cloud, identity: Identity, workdir: Path) -> None:
        self.cloud = cloud
        self.identity = identity
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.config, self.cloud_name = cloud.clouds_yaml(identity, workdir)

    @property
    def wire(self) -> IdentityProxy | None:
        return self.cloud.wire(self.identity)

    def run(self, *args: str, binary: Path = OSC_NEWEST, timeout: float = 120) -> CliResult:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            HOME=str(self.workdir),
            OS_CLIENT_CONFIG_FILE=str(self.config),
            OS_CLOUD=self.cloud_name,
            PYTHONWARNINGS="ignore",
        )
        proc = subprocess.run(
            [str(binary), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.workdir,
            timeout=timeout,
            check=False,
        )
        return CliResult(args, proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, binary: Path = OSC_NEWEST) -> Any:
        """Run with ``-f json`` where it applies; assert success; the parsed output."""
        res = self.run(*args, binary=binary)
        assert res.returncode == 0, str(res)
        return res.json() if res.stdout.strip() else None

    def fails(self, *args: str, binary: Path = OSC_NEWEST) -> CliResult:
        res = self.run(*args, binary=binary)
        assert res.returncode != 0, str(res)
        return res


@pytest.fixture(scope="session")
def vpnaas_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("vpnaas-clients"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=AUTH_MODES)
def cloud(request: pytest.FixtureRequest, vpnaas_server: ServerProcess) -> Iterator[Cloud]:
    c = make_cloud(request.param, vpnaas_server)
    try:
        yield c
    finally:
        c.close()


def ensure_pinned_osc(venv: Path = OSC_VENV, timeout: float = 900) -> Path:
    """The pinned ``openstack`` executable, building its venv with pip if
    missing or stale (one builder at a time across xdist workers)."""
    spec = venvs.VenvSpec(
        "osc", venv, tuple(OSC_PINNED_REQUIREMENTS), "import openstackclient, neutronclient.osc"
    )
    return venvs.ensure(spec, timeout=timeout) / "bin" / "openstack"


@pytest.fixture(scope="session")
def osc_pinned() -> Path:
    ready = os.environ.get("VPNAAS_OSC_PINNED")
    if ready:
        return Path(ready)
    try:
        return ensure_pinned_osc()
    except venvs.VenvUnavailable as exc:
        venvs.skip_or_fail(f"cannot build the pinned openstack CLI in {OSC_VENV}: {exc}")
        raise


@pytest.fixture(autouse=True)
def _server_log_offset(request: pytest.FixtureRequest) -> None:
    if "vpnaas_server" in request.fixturenames:
        server: ServerProcess = request.getfixturevalue("vpnaas_server")
        request.node.stash[_LOG_OFFSET] = server.log_size()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("vpnaas_server")
    if report.failed and isinstance(server, ServerProcess) and _LOG_OFFSET in item.stash:
        log = server.log(item.stash[_LOG_OFFSET]).strip()
        alive = "running" if server.alive() else f"exited {server.process.returncode}"
        report.sections.append((f"vpnaas server log ({alive})", log or "(nothing logged)"))
