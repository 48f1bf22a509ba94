"""Cached answers equal fresh ones (issue 11 §1), noauth, in process: two
apps over one database, one with ``response_cache`` on and one with it off;
see :mod:`tests.support.coherence`. The cache-off app's statements are also
checked against the resources each answer is versioned by."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.support import coherence, databases, matrix
from vpnaas.app import create_app
from vpnaas.settings import load

#: a database server URL (see ``scripts/test-databases``)
SERVER_URL_ENV = "VPNAAS_TEST_DATABASE_URL"
RUNS = settings(
    max_examples=8,
    stateful_step_count=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """SQLite, or a fresh database on ``VPNAAS_TEST_DATABASE_URL``'s server
    (where reads run under READ COMMITTED)."""
    server_url = os.environ.get(SERVER_URL_ENV)
    if not server_url:
        yield {"connection": f"sqlite:///{tmp_path / 'vpnaas.sqlite'}"}
        return
    with databases.fresh_database(server_url) as url:
        yield {"connection": url}


@pytest.fixture
def target(tmp_path: Path, database: dict[str, str]) -> Iterator[coherence.Target]:
    cached, public = matrix.serve(tmp_path, sections={"database": database})
    fresh = create_app(load([str(tmp_path / "vpnaas.conf")], response_cache=False))
    yield coherence.Target(
        cached=coherence.app_side(cached),
        fresh=coherence.app_side(fresh),
        cast=coherence.noauth_cast,
        public_network=public,
        recorder=coherence.Recorder(fresh),
    )
    cached.db.dispose()
    fresh.db.dispose()


def test_cached_answers_equal_fresh_ones_noauth(target: coherence.Target) -> None:
    """Fewer runs on a database server (its pass repeats the whole
    functional suite; reads there see other transactions' commits)."""
    runs = RUNS
    if os.environ.get(SERVER_URL_ENV):
        runs = settings(RUNS, max_examples=2, stateful_step_count=8)
    run_state_machine_as_test(coherence.machine(target), settings=runs)
