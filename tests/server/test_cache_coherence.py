"""Cached answers equal fresh ones (issue 11 §1) across two workers: a real
``vpnaas serve --workers 2`` (each worker keeps its own caches) against a
cache-off app on the same database file, every cached read asked twice so
that both workers answer; see :mod:`tests.support.coherence`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests.functional.test_cache_coherence import RUNS
from tests.support import coherence
from tests.support.server import ServerProcess, start_server
from vpnaas.app import create_app
from vpnaas.settings import load

pytestmark = pytest.mark.slow


def _server_side(server: ServerProcess) -> coherence.Side:
    def call(method: str, path: str, headers: Mapping[str, str], body: Any) -> coherence.Answer:
        got = server.request(method, path, body, headers=headers)
        return got.status, got.body

    return call


@pytest.fixture
def target(tmp_path: Path) -> Iterator[coherence.Target]:
    server = start_server(tmp_path, args=("--workers", "2"))
    fresh = create_app(
        load(
            [str(tmp_path / "vpnaas.conf")],
            database_url=f"sqlite:///{tmp_path / 'vpnaas.sqlite'}",
            response_cache=False,
        )
    )
    try:
        yield coherence.Target(
            cached=_server_side(server),
            fresh=coherence.app_side(fresh),
            cast=coherence.noauth_cast,
            public_network=server.public_network_id,
            repeat=2,
        )
    finally:
        fresh.db.dispose()
        server.stop()


def test_cached_answers_equal_fresh_ones_on_two_workers(target: coherence.Target) -> None:
    runs = settings(RUNS, max_examples=3, stateful_step_count=8)
    run_state_machine_as_test(coherence.machine(target), settings=runs)
