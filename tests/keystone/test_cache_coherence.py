"""Cached answers equal fresh ones (issue 11 §1) in keystone mode: every
identity is a real token validated by keystonemiddleware against a real
Keystone, on two in-process apps over one database (``response_cache`` on
and off); see :mod:`tests.support.coherence`. Fewer runs than noauth: the
projects are the same in every run, so the lists grow from run to run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests.functional.test_cache_coherence import RUNS
from tests.keystone.test_matrix import keystone_headers
from tests.support import coherence, matrix
from tests.support.keystone import Accounts, Keystone
from vpnaas.app import create_app
from vpnaas.settings import load

pytestmark = pytest.mark.slow


@pytest.fixture
def target(
    keystone: Keystone, keystone_accounts: Accounts, tmp_path: Path
) -> Iterator[coherence.Target]:
    acc = keystone_accounts
    cached, public = matrix.serve(
        tmp_path,
        auth_strategy="keystone",
        sections={"keystone_authtoken": keystone.authtoken_options(acc.service)},
    )
    fresh = create_app(load([str(tmp_path / "vpnaas.conf")], response_cache=False))
    cast = coherence.Cast(acc.project_a.id, acc.project_b.id, keystone_headers(keystone, acc))
    yield coherence.Target(
        cached=coherence.app_side(cached),
        fresh=coherence.app_side(fresh),
        cast=lambda: cast,
        public_network=public,
        recorder=coherence.Recorder(fresh),
    )
    cached.db.dispose()
    fresh.db.dispose()


def test_cached_answers_equal_fresh_ones_keystone(target: coherence.Target) -> None:
    runs = settings(RUNS, max_examples=3, stateful_step_count=8)
    run_state_machine_as_test(coherence.machine(target), settings=runs)
