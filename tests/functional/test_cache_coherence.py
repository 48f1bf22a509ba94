"""Cached answers equal fresh ones (issue 11 §1), noauth, in process: two
apps over one database, one with ``response_cache`` on and one with it off;
see :mod:`tests.support.coherence`. The cache-off app's statements are also
checked against the resources each answer is versioned by."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.support import coherence, matrix
from vpnaas.app import create_app
from vpnaas.settings import load

RUNS = settings(
    max_examples=8,
    stateful_step_count=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[coherence.Target]:
    cached, public = matrix.serve(tmp_path)
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
    run_state_machine_as_test(coherence.machine(target), settings=RUNS)
