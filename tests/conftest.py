"""One real Keystone for the whole session (see :mod:`tests.support.keystone`).

``keystone`` is started once per session (per xdist worker), on first use by
any suite (tests/keystone, tests/tempest, the browser's keystone login...),
in a temporary directory, and stopped at the end; the tests skip only if the
keystone virtualenv cannot be built (no registry, say). It is defined here,
at the root, so that every suite shares the same fixture: a conftest that
imports it defines a second one, and pytest then starts a second Keystone.
Tests that need users or projects of their own create them with unique
names. ``keystone_accounts`` adds the standard cast: projects A and B with an
admin, member and reader each, and the ``vpnaas`` service user.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support import venvs
from tests.support.keystone import Accounts, Keystone, KeystoneUnavailable, ensure_venv

_STARTED: list[Keystone] = []


@pytest.fixture(scope="session")
def keystone() -> Iterator[Keystone]:
    began = time.monotonic()
    try:
        venv = ensure_venv()
    except KeystoneUnavailable as exc:
        venvs.skip_or_fail(f"the keystone virtualenv cannot be built: {exc}")
        raise
    server = Keystone(venv)
    server.timings["venv"] = time.monotonic() - began
    try:
        server.start()
        _STARTED.append(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def keystone_accounts(keystone: Keystone) -> Accounts:
    return keystone.accounts()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _STARTED:
        times = ", ".join(f"{k} {v:.1f} s" for k, v in server.timings.items())
        terminalreporter.write_line(f"keystone {server.version} on {server.url}: {times}")
