"""neutron-tempest-plugin's VPNaaS API tests, run by tempest against vpnaas.

``neutron_tempest_plugin.vpnaas.api.test_vpnaas.VPNaaSTestJSON`` (34 tests in
neutron-tempest-plugin 3.3.0) runs unchanged: tempest authenticates with
Keystone (dynamic credentials: a project and user per credential type, made
with the bootstrap admin), finds vpnaas in the catalog as ``network`` and
drives it over HTTP. ``[network-feature-enabled] api_extensions`` lists
exactly what the server advertises at ``GET /v2.0/extensions``. All 34
must pass; a skip counts as a failure (it would mean a missing extension or
a wrong ``tempest.conf``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import venvs
from tests.support.tempest import (
    VPNAAS_TEST_COUNT,
    TempestUnavailable,
    Workspace,
    ensure_venv,
    init_workspace,
    run_tempest,
    tempest_conf,
)
from tests.tempest.conftest import SUMMARY, KeystoneVpnaas

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tempest_venv() -> Path:
    began = time.monotonic()
    try:
        venv = ensure_venv()
    except TempestUnavailable as exc:
        venvs.skip_or_fail(f"the tempest virtualenv cannot be built: {exc}")
        raise
    SUMMARY.append(f"tempest venv ready in {time.monotonic() - began:.1f} s ({venv})")
    return venv


@pytest.fixture
def workspace(tempest_venv: Path, keystone_vpnaas: KeystoneVpnaas, tmp_path: Path) -> Workspace:
    began = time.monotonic()
    ws = init_workspace(tempest_venv, tmp_path / "tempest")
    conf = tempest_conf(
        keystone_vpnaas.keystone,
        workspace=ws.path,
        public_network_id=keystone_vpnaas.public_network_id,
        extensions=keystone_vpnaas.extensions(),
    )
    ws.conf_file.write_text(conf, encoding="utf-8")
    SUMMARY.append(f"tempest workspace ready in {time.monotonic() - began:.1f} s ({ws.path})")
    return ws


def test_vpnaas_api_class_passes(
    workspace: Workspace,
    keystone_vpnaas: KeystoneVpnaas,
    record_property: Callable[[str, object], None],
) -> None:
    log_start = keystone_vpnaas.server.log_size()
    run = run_tempest(workspace, timeout=600)
    tests = run.tests()

    SUMMARY.append(f"tempest run: {run.summary} (tempest run took {run.seconds:.1f} s)")
    record_property("tempest_summary", run.summary)
    record_property("tempest_seconds", round(run.seconds, 1))
    print(run.summary)

    totals = run.totals
    ok = (
        run.returncode == 0
        and totals is not None
        and (totals.ran, totals.passed, totals.skipped, totals.failed)
        == (VPNAAS_TEST_COUNT, VPNAAS_TEST_COUNT, 0, 0)
        and totals.unexpected_success == 0
        and totals.expected_fail == 0
        and len(tests) == VPNAAS_TEST_COUNT
        and all(t.status == "success" for t in tests)
        and not run.failures()
    )
    if not ok:
        pytest.fail(
            f"expected all {VPNAAS_TEST_COUNT} VPNaaS API tests to pass, none skipped "
            f"({len(tests)} test results read back)\n"
            + run.report()
            + "\n"
            + keystone_vpnaas.log_excerpt(log_start),
            pytrace=False,
        )
