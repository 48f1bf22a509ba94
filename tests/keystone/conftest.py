"""A real Keystone for the session (see :mod:`tests.support.keystone`).

``keystone`` is started once per session (per xdist worker) in a temporary
directory and stopped at the end; the tests skip only if the keystone
virtualenv cannot be built (no registry, say). ``keystone_accounts`` adds the
standard cast: projects A and B with an admin, member and reader each, and the
``vpnaas`` service user.
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
