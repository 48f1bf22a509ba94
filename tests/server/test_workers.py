"""Read-your-writes across workers: a write answered by one worker is seen
by the very next read, whichever worker serves it (lists and shows are
cached per worker, keyed by the database's write counters)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow

HEADERS = {"X-Project-Id": "workers-project"}
ROUNDS = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("workers")
    proc = start_server(workdir, args=("--workers", "2"))
    yield proc
    proc.stop()


def _names(server: ServerProcess) -> list[str]:
    response = server.request("GET", "v2.0/vpn/ikepolicies", headers=HEADERS)
    assert response.status == 200
    return [p["name"] for p in response.body["ikepolicies"]]


def _shown(server: ServerProcess, policy: str) -> list[str | None]:
    """The name three shows in a row answer (None for a 404): enough that
    both workers answer some, from their caches once warm."""
    names: list[str | None] = []
    for _ in range(3):
        response = server.request("GET", f"v2.0/vpn/ikepolicies/{policy}", headers=HEADERS)
        assert response.status in (200, 404)
        names.append(response.body["ikepolicy"]["name"] if response.status == 200 else None)
    return names


def test_every_write_is_visible_to_the_next_list_on_any_worker(server: ServerProcess) -> None:
    for i in range(ROUNDS):
        _names(server)  # warm both workers' caches with the state before the write
        created = server.request(
            "POST", "v2.0/vpn/ikepolicies", {"ikepolicy": {"name": f"p{i}"}}, headers=HEADERS
        )
        assert created.status == 201
        policy = created.body["ikepolicy"]["id"]
        assert f"p{i}" in _names(server)
        assert _shown(server, policy) == [f"p{i}"] * 3
        renamed = server.request(
            "PUT",
            f"v2.0/vpn/ikepolicies/{policy}",
            {"ikepolicy": {"name": f"q{i}"}},
            headers=HEADERS,
        )
        assert renamed.status == 200
        names = _names(server)
        assert f"q{i}" in names
        assert f"p{i}" not in names
        assert _shown(server, policy) == [f"q{i}"] * 3
        assert (
            server.request("DELETE", f"v2.0/vpn/ikepolicies/{policy}", headers=HEADERS).status
            == 204
        )
        assert f"q{i}" not in _names(server)
        assert _shown(server, policy) == [None] * 3
