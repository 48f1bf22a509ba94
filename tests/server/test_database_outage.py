"""A database that goes away and comes back: the server answers 503 (not 500,
not a hang) while it is down and recovers by itself when it returns; so does
``GET /healthcheck``, which a load balancer probes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow

HEADERS = {"X-Project-Id": "outage-project"}


@pytest.fixture(scope="module", params=databases.KINDS)
def database(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[databases.DatabaseServer, str]]:
    kind = str(request.param)
    directory = Path(tempfile.mkdtemp(prefix=f"vpnaas-outage-{kind}-"))
    directory.chmod(0o711)  # the server runs as its own OS user
    server = databases.start_server(kind, directory)
    try:
        url = databases.create_database(server.url)
        subprocess.run(
            [sys.executable, "-m", "vpnaas", "db", "upgrade", "--database-url", url],
            check=True,
            capture_output=True,
        )
        yield server, url
    finally:
        databases.stop_server(kind, directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def vpnaas(
    database: tuple[databases.DatabaseServer, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("outage-server")
    proc = start_server(workdir, args=("--workers", "2", "--database-url", database[1]))
    yield proc
    proc.stop()


def _status(server: ServerProcess, method: str = "GET", body: object = None) -> tuple[int, float]:
    started = time.monotonic()
    response = server.request(method, "v2.0/vpn/ikepolicies", body, headers=HEADERS, timeout=60)
    elapsed = time.monotonic() - started
    if response.status >= 400:
        assert set(response.error()) == {"type", "message", "detail"}
    return response.status, elapsed


def _health(server: ServerProcess) -> tuple[int, str]:
    """``GET /healthcheck`` without identity: its status and text."""
    response = server.request("GET", "healthcheck", headers={"Accept": "text/plain"}, timeout=60)
    return response.status, str(response.body).strip()


def test_a_lost_database_is_503_and_service_returns_with_it(
    database: tuple[databases.DatabaseServer, str], vpnaas: ServerProcess
) -> None:
    db_server, _url = database
    assert _status(vpnaas, "POST", {"ikepolicy": {"name": "before"}})[0] == 201
    assert _status(vpnaas)[0] == 200
    assert _health(vpnaas) == (200, "OK")

    databases.stop_server(db_server.kind, db_server.directory)
    try:
        for method, body in [("GET", None), ("POST", {"ikepolicy": {"name": "during"}})] * 4:
            status, elapsed = _status(vpnaas, method, body)
            assert status == 503, status
            assert elapsed < 30, f"a request waited {elapsed:.1f} s for the lost database"
        down = vpnaas.request("GET", "v2.0/vpn/ikepolicies", headers=HEADERS)
        assert down.error()["type"] == "ServiceUnavailable"
        assert _health(vpnaas) == (503, "database unavailable")
    finally:
        databases.start_server(db_server.kind, db_server.directory, db_server.port)

    deadline = time.monotonic() + 30
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(_status(vpnaas)[0])
        if statuses[-3:] == [200, 200, 200]:
            break
        time.sleep(0.2)
    assert statuses[-3:] == [200, 200, 200], statuses
    assert _status(vpnaas, "POST", {"ikepolicy": {"name": "after"}})[0] == 201
    assert _health(vpnaas) == (200, "OK")
    names = [
        p["name"]
        for p in vpnaas.request("GET", "v2.0/vpn/ikepolicies", headers=HEADERS).body["ikepolicies"]
    ]
    assert sorted(names) == ["after", "before"]
