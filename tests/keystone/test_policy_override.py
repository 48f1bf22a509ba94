"""A ``policy.yaml`` override changes the answer without a restart, with real
Keystone tokens; see :func:`tests.support.matrix.run_policy_override`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.keystone.test_matrix import keystone_world
from tests.support import matrix
from tests.support.keystone import Accounts, Keystone

pytestmark = pytest.mark.slow


def test_policy_file_edits_apply_without_restart(
    keystone: Keystone, keystone_accounts: Accounts, tmp_path: Path
) -> None:
    world, policy = keystone_world(keystone, keystone_accounts, tmp_path)
    try:
        matrix.run_policy_override(world, policy)
    finally:
        world.close()
