"""A ``policy.yaml`` override changes the answer without a restart (noauth
mode, in process); see :func:`tests.support.matrix.run_policy_override`."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support import matrix


def test_policy_file_edits_apply_without_restart(tmp_path: Path) -> None:
    policy = matrix.PolicyFile(tmp_path / "policy.yaml")
    policy.write({})
    app, public = matrix.serve(tmp_path, policy_file=policy.path)
    project_a, project_b = uuid.uuid4().hex, uuid.uuid4().hex
    world = matrix.World(
        app=app,
        headers=matrix.noauth_headers(project_a, project_b),
        project_a=project_a,
        project_b=project_b,
        public_network=public,
    )
    try:
        matrix.run_policy_override(world, policy)
    finally:
        world.close()
