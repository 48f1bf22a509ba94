"""Run neutron-tempest-plugin's VPNaaS API tests against a real vpnaas.

Tempest and the plugin live in a virtualenv of their own, ``.venv-tempest``
at the top of the repository (``VPNAAS_TEMPEST_VENV`` overrides the place),
so that their pinned oslo libraries never meet vpnaas' ``.venv``.
:func:`ensure_venv` builds it on first use and reuses it while it imports and
its stamp matches :data:`TEMPEST_REQUIREMENTS`; a file lock keeps parallel
sessions (pytest-xdist) from building it twice.

A run has three parts:

1. a Keystone from :mod:`tests.support.keystone` with vpnaas registered in
   its catalog as ``network`` (the unversioned root URL), and vpnaas serving
   with ``auth_strategy = keystone`` and the section
   :meth:`~tests.support.keystone.Keystone.authtoken_config` renders;
2. :func:`init_workspace`: ``tempest init`` in a temporary directory (with
   ``HOME`` and the workspace registry inside it, so ``~/.tempest`` is never
   touched), then ``etc/tempest.conf`` from :func:`tempest_conf`;
3. :func:`run_tempest`: ``tempest run`` of :data:`VPNAAS_TEST_CLASS` in the
   workspace, its ``Totals`` block parsed into :class:`Totals`, and every
   test's outcome and traceback read back from the stestr repository
   (``stestr last --subunit``, decoded by python-subunit inside the tempest
   virtualenv) into :class:`TestResult`.

Tempest's dynamic credentials create a project and user per credential type
(``primary`` with role member, ``admin`` with role admin) through the
identity API with the bootstrap admin, and delete them at the end; network
resources for them are not created (the plugin's base class asks for none).

Everything tempest starts runs in a process group led by the process started
here; a run that outlives its timeout is ended by killing that group. Only
loopback addresses are used: proxy variables are dropped from the
environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import venvs
from tests.support.keystone import REGION, Keystone, render_ini

__all__ = [
    "DEFAULT_EXTENSIONS",
    "TEMPEST_REQUIREMENTS",
    "VPNAAS_TEST_CLASS",
    "VPNAAS_TEST_COUNT",
    "TempestError",
    "TempestRun",
    "TempestUnavailable",
    "TestResult",
    "Totals",
    "Workspace",
    "default_venv",
    "ensure_venv",
    "init_workspace",
    "run_tempest",
    "tempest_command",
    "tempest_conf",
]

REPO = Path(__file__).resolve().parents[2]

#: What the tempest virtualenv holds (the versions this harness was tried with).
TEMPEST_REQUIREMENTS: tuple[str, ...] = ("tempest==47.0.0", "neutron-tempest-plugin==3.3.0")

VPNAAS_TEST_CLASS = "neutron_tempest_plugin.vpnaas.api.test_vpnaas.VPNaaSTestJSON"
#: How many tests :data:`VPNAAS_TEST_CLASS` holds in neutron-tempest-plugin 3.3.0.
VPNAAS_TEST_COUNT = 34

#: The aliases vpnaas lists at ``GET /v2.0/extensions`` (src/vpnaas/spec/extensions.py),
#: the default of :func:`tempest_conf` (the test asks the running server instead);
#: the VPNaaS API class itself only checks ``vpnaas``.
DEFAULT_EXTENSIONS = (
    "vpnaas",
    "vpn-endpoint-groups",
    "vpn-flavors",
    "vpn-aes-ctr",
    "vpn-no-sha1-3des",
    "router",
    "external-net",
    "ext-gw-mode",
    "net-mtu",
    "net-mtu-writable",
    "standard-attr-description",
    "project-id",
    "filter-validation",
    "empty-string-filtering",
)

_IMPORT_CHECK = (
    "import tempest.cmd.main, neutron_tempest_plugin.vpnaas.api.test_vpnaas, stestr, subunit"
)

#: Run inside the tempest virtualenv: a subunit v2 stream on stdin, one JSON
#: object per test on stdout (id, status, tags, text details, duration).
_SUBUNIT_TO_JSON = """\
import json, sys
import subunit, testtools

def emit(test):
    stamps = [t for t in test["timestamps"] if t is not None]
    details = {}
    for name, content in test["details"].items():
        if content.content_type.type == "text":
            details[name] = content.as_text()
    print(json.dumps({
        "id": test["id"],
        "status": test["status"],
        "tags": sorted(test["tags"]),
        "details": details,
        "duration": (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else None,
    }))

result = testtools.StreamToDict(emit)
result.startTestRun()
try:
    subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(result)
finally:
    result.stopTestRun()
"""


#: the tempest virtualenv could not be built (tests skip on this, or fail in CI)
TempestUnavailable = venvs.VenvUnavailable


class TempestError(RuntimeError):
    """A tempest command failed before any test could run."""


# --------------------------------------------------------------------------- venv


def default_venv() -> Path:
    """Where the tempest virtualenv lives (``$VPNAAS_TEMPEST_VENV`` or ``.venv-tempest``)."""
    return Path(os.environ.get("VPNAAS_TEMPEST_VENV") or REPO / ".venv-tempest")


def _spec(venv: Path | None = None) -> venvs.VenvSpec:
    return venvs.VenvSpec("tempest", venv or default_venv(), TEMPEST_REQUIREMENTS, _IMPORT_CHECK)


_clean_env = venvs.clean_env


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def ensure_venv(venv: Path | None = None, *, timeout: float = 1200) -> Path:
    """The tempest virtualenv, built with pip first if missing or stale.

    Raises :class:`TempestUnavailable` with pip's output if it cannot be built.
    """
    return venvs.ensure(_spec(venv), timeout=timeout)


@dataclass(frozen=True)
class Workspace:
    """A ``tempest init`` workspace and the private ``HOME`` its commands use."""

    path: Path
    home: Path
    venv: Path

    @property
    def conf_file(self) -> Path:
        return self.path / "etc" / "tempest.conf"

    @property
    def log_file(self) -> Path:
        return self.path / "logs" / "tempest.log"

    def env(self) -> dict[str, str]:
        return _clean_env(
            HOME=str(self.home),
            TEMPEST_CONFIG_DIR=str(self.conf_file.parent),
            TEMPEST_CONFIG=self.conf_file.name,
        )

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"({self.log_file} unreadable)"
        return _tail(text, lines)


def init_workspace(venv: Path, directory: Path) -> Workspace:
    """``tempest init`` a workspace in ``directory/workspace`` (write its
    :attr:`Workspace.conf_file` next). The workspace registry and ``HOME`` stay
    in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    home = directory / "home"
    home.mkdir(exist_ok=True)
    ws = Workspace(path=directory / "workspace", home=home, venv=venv)
    cmd = [
        str(venv / "bin" / "tempest"),
        "init",
        "--name",
        f"vpnaas-{uuid.uuid4().hex[:8]}",
        "--workspace-path",
        str(directory / "workspace.yaml"),
        str(ws.path),
    ]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=directory,
        env=ws.env(),
        timeout=120,
        check=False,
    )
    if done.returncode != 0 or not (ws.path / ".stestr.conf").is_file():
        raise TempestError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return ws


def tempest_conf(
    keystone: Keystone,
    *,
    workspace: Path,
    public_network_id: str,
    extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    ipv6: bool = True,
    debug: bool = False,
) -> str:
    """The ``tempest.conf`` for a VPNaaS API run against ``keystone``'s catalog."""
    sections: dict[str, dict[str, str]] = {
        "DEFAULT": {
            "log_dir": str(workspace / "logs"),
            "log_file": "tempest.log",
            "debug": "true" if debug else "false",
        },
        "oslo_concurrency": {"lock_path": str(workspace / "tempest_lock")},
        "auth": {
            "use_dynamic_credentials": "true",
            "create_isolated_networks": "false",
            "admin_username": "admin",
            "admin_password": keystone.admin_password,
            "admin_project_name": "admin",
            "admin_domain_name": "Default",
        },
        "identity": {
            "uri_v3": keystone.auth_url,
            "auth_version": "v3",
            "region": REGION,
            "v3_endpoint_type": "public",
        },
        "identity-feature-enabled": {"api_v2": "false"},
        "service_available": {
            "neutron": "true",
            "nova": "false",
            "glance": "false",
            "cinder": "false",
            "swift": "false",
            "horizon": "false",
        },
        "network": {
            "catalog_type": "network",
            "endpoint_type": "publicURL",
            "region": REGION,
            "public_network_id": public_network_id,
            "project_network_cidr": "10.100.0.0/16",
            "project_network_mask_bits": "28",
        },
        "network-feature-enabled": {
            "api_extensions": ",".join(extensions),
            "ipv6": "true" if ipv6 else "false",
        },
    }
    return render_ini(sections)


def tempest_command(
    venv: Path, *, concurrency: int = 1, test_class: str = VPNAAS_TEST_CLASS
) -> list[str]:
    """``tempest run`` of ``test_class`` only (run it in the workspace)."""
    return [
        str(venv / "bin" / "tempest"),
        "run",
        "--concurrency",
        str(concurrency),
        "--regex",
        "^" + re.escape(test_class) + r"\.",
    ]


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Totals:
    """The ``Totals`` block ``tempest run`` prints at the end."""

    ran: int
    seconds: float
    passed: int
    skipped: int
    expected_fail: int
    unexpected_success: int
    failed: int

    @property
    def line(self) -> str:
        return (
            f"Totals: Ran: {self.ran} tests in {self.seconds:.4f} sec. "
            f"Passed: {self.passed} Skipped: {self.skipped} "
            f"Expected Fail: {self.expected_fail} "
            f"Unexpected Success: {self.unexpected_success} Failed: {self.failed}"
        )


_TOTALS = re.compile(
    r"^Ran: (?P<ran>\d+) tests in (?P<seconds>[\d.]+) sec\.\s*$"
    r"(?P<counts>(?:\n - [A-Za-z ]+: \d+\s*$)+)",
    re.MULTILINE,
)
_COUNT = re.compile(r"^ - (?P<name>[A-Za-z ]+): (?P<value>\d+)", re.MULTILINE)


def parse_totals(output: str) -> Totals | None:
    """The last ``Totals`` block of ``tempest run`` output, if there is one."""
    matches = list(_TOTALS.finditer(output))
    if not matches:
        return None
    last = matches[-1]
    counts = {m["name"].strip(): int(m["value"]) for m in _COUNT.finditer(last["counts"])}
    return Totals(
        ran=int(last["ran"]),
        seconds=float(last["seconds"]),
        passed=counts.get("Passed", 0),
        skipped=counts.get("Skipped", 0),
        expected_fail=counts.get("Expected Fail", 0),
        unexpected_success=counts.get("Unexpected Success", 0),
        failed=counts.get("Failed", 0),
    )


@dataclass(frozen=True)
class TestResult:
    """One test's outcome as the subunit stream recorded it."""

    __test__ = False  # not a pytest test class

    id: str
    status: str  # success, fail, skip, xfail, uxsuccess, exists, inprogress
    details: Mapping[str, str] = field(default_factory=dict, repr=False)
    tags: tuple[str, ...] = ()
    duration: float | None = None

    @property
    def name(self) -> str:
        """The id without the class prefix and the ``[id-...,attrs]`` suffix."""
        short = self.id.split("[", 1)[0]
        return short.removeprefix(VPNAAS_TEST_CLASS + ".")

    @property
    def ok(self) -> bool:
        return self.status in ("success", "xfail", "skip")

    def traceback(self) -> str:
        """The traceback (or skip reason) and other text tempest attached."""
        order = sorted(self.details, key=lambda k: (k != "traceback", k != "reason", k))
        return "\n".join(f"--- {k}\n{self.details[k].rstrip()}" for k in order)


@dataclass
class TempestRun:
    """What one ``tempest run`` did."""

    command: list[str]
    returncode: int
    output: str
    seconds: float
    totals: Totals | None
    results: list[TestResult]
    workspace: Workspace
    timed_out: bool = False
    #: why per-test results could not be read back, if they could not
    results_error: str | None = None

    @property
    def summary(self) -> str:
        if self.totals is None:
            return f"no Totals in the output (tempest run exited {self.returncode})"
        return self.totals.line

    def tests(self, prefix: str = VPNAAS_TEST_CLASS + ".") -> list[TestResult]:
        """The real tests of the class (not ``setUpClass`` or worker pseudo-tests)."""
        return [r for r in self.results if r.id.startswith(prefix)]

    def failures(self) -> list[TestResult]:
        return [r for r in self.results if not r.ok]

    def skips(self) -> list[TestResult]:
        return [r for r in self.results if r.status == "skip"]

    def report(self, *, output_lines: int = 40, log_lines: int = 60) -> str:
        """Tracebacks of what failed, skip reasons, then the ends of the output
        and of ``tempest.log``: what an assertion message should carry."""
        parts = [f"$ {' '.join(self.command)}", f"exit {self.returncode}", self.summary]
        if self.timed_out:
            parts.append("(timed out: the process group was killed)")
        if self.results_error:
            parts.append(f"(per-test results unreadable: {self.results_error})")
        for res in self.failures():
            parts.append(f"=== FAILED {res.id} ({res.status})\n{res.traceback()}")
        for res in self.skips():
            parts.append(f"=== SKIPPED {res.id}\n{res.traceback()}")
        parts.append(f"=== tempest run output (last {output_lines} lines)")
        parts.append(_tail(self.output, output_lines))
        parts.append(f"=== tempest.log (last {log_lines} lines)")
        parts.append(self.workspace.log_tail(log_lines))
        return "\n".join(parts)


def _run_group(
    cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> tuple[int, bytes, bool]:
    """Run ``cmd`` as the leader of a new process group; on timeout kill that
    group. Returns (exit code, stdout and stderr, timed out)."""
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=dict(env),
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out, False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return proc.returncode, out, True
    finally:
        if proc.poll() is None:  # an exception other than the timeout
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def read_results(workspace: Workspace, *, timeout: float = 120) -> list[TestResult]:
    """Every test of the last run in the workspace's stestr repository."""
    venv = workspace.venv
    stream = subprocess.run(
        [str(venv / "bin" / "stestr"), "last", "--subunit"],
        capture_output=True,
        cwd=workspace.path,
        env=workspace.env(),
        timeout=timeout,
        check=False,
    )
    if not stream.stdout:
        return []
    decoded = subprocess.run(
        [str(venv / "bin" / "python"), "-c", _SUBUNIT_TO_JSON],
        input=stream.stdout,
        capture_output=True,
        cwd=workspace.path,
        env=workspace.env(),
        timeout=timeout,
        check=False,
    )
    if decoded.returncode != 0:
        raise TempestError(f"decoding subunit failed:\n{decoded.stderr.decode(errors='replace')}")
    results = []
    for line in decoded.stdout.decode().splitlines():
        item: dict[str, Any] = json.loads(line)
        results.append(
            TestResult(
                id=item["id"],
                status=item["status"],
                details=item["details"],
                tags=tuple(item["tags"]),
                duration=item["duration"],
            )
        )
    return results


def run_tempest(
    workspace: Workspace,
    *,
    concurrency: int = 1,
    test_class: str = VPNAAS_TEST_CLASS,
    timeout: float = 600,
) -> TempestRun:
    """``tempest run`` of ``test_class`` in ``workspace``; totals and per-test results."""
    cmd = tempest_command(workspace.venv, concurrency=concurrency, test_class=test_class)
    began = time.monotonic()
    code, raw, timed_out = _run_group(cmd, cwd=workspace.path, env=workspace.env(), timeout=timeout)
    seconds = time.monotonic() - began
    output = raw.decode("utf-8", errors="replace")
    results: list[TestResult] = []
    results_error = None
    try:
        results = read_results(workspace)
    except (TempestError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        results_error = f"{type(exc).__name__}: {exc}"
    return TempestRun(
        command=cmd,
        returncode=code,
        output=output,
        seconds=seconds,
        totals=parse_totals(output),
        results=results,
        workspace=workspace,
        timed_out=timed_out,
        results_error=results_error,
    )
