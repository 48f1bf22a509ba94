"""Read-your-writes while a worker's request threads share counter reads
(``vpnaas.db.counters``): on ``vpnaas serve --workers 2`` over PostgreSQL
(5 request threads a worker), clients write and read at once, so reads
are often in flight when a write commits; every client's list and show
after its own write must show that write, whichever worker answers.

PostgreSQL is a private server of ``scripts/db-server``, or a fresh
database on ``VPNAAS_TEST_DATABASE_URL``'s server when that names one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow

HEADERS = {"X-Project-Id": "shared-reads-project"}
CLIENTS = 8
ROUNDS = 25
POLICIES = "v2.0/vpn/ikepolicies"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ExitStack() as stack:
        server_url = os.environ.get("VPNAAS_TEST_DATABASE_URL", "")
        if not server_url.startswith("postgresql"):
            server_url = stack.enter_context(databases.running_server("postgresql")).url
        url = stack.enter_context(databases.fresh_database(server_url))
        subprocess.run(
            [sys.executable, "-m", "vpnaas", "db", "upgrade", "--database-url", url],
            check=True,
            capture_output=True,
        )
        workdir: Path = tmp_path_factory.mktemp("shared-reads-server")
        proc = start_server(workdir, args=("--workers", "2", "--database-url", url))
        stack.callback(proc.stop)
        yield proc


def _client(server: ServerProcess, client: int) -> list[str]:
    """Rename this client's policy round after round, each time reading
    the list and the policy back; what it read that missed its own write."""
    created = server.request(
        "POST", POLICIES, {"ikepolicy": {"name": f"c{client}-start"}}, headers=HEADERS
    )
    assert created.status == 201
    policy = created.body["ikepolicy"]["id"]
    missed = []
    for i in range(ROUNDS):
        name = f"c{client}-{i}"
        renamed = server.request(
            "PUT", f"{POLICIES}/{policy}", {"ikepolicy": {"name": name}}, headers=HEADERS
        )
        assert renamed.status == 200
        listed = server.request("GET", POLICIES, headers=HEADERS)
        assert listed.status == 200
        seen = {p["id"]: p["name"] for p in listed.body["ikepolicies"]}
        if seen.get(policy) != name:
            missed.append(f"list after {name}: {seen.get(policy)}")
        shown = server.request("GET", f"{POLICIES}/{policy}", headers=HEADERS)
        assert shown.status == 200
        if shown.body["ikepolicy"]["name"] != name:
            missed.append(f"show after {name}: {shown.body['ikepolicy']['name']}")
    return missed


def test_concurrent_clients_read_their_own_writes_on_two_workers(server: ServerProcess) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda c: _client(server, c), range(CLIENTS)))
    assert [m for missed in results for m in missed] == []
