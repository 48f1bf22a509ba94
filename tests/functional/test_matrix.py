"""The authorization matrix (:mod:`tests.support.matrix`) in ``noauth`` mode:
every actor is a set of identity headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support import matrix


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[matrix.World]:
    app, public = matrix.serve(tmp_path_factory.mktemp("matrix-noauth"))
    project_a, project_b = uuid.uuid4().hex, uuid.uuid4().hex
    world = matrix.World(
        app=app,
        headers=matrix.noauth_headers(project_a, project_b),
        project_a=project_a,
        project_b=project_b,
        public_network=public,
    )
    yield matrix.build(world)
    world.close()


@pytest.mark.parametrize("row", matrix.params())
def test_matrix(world: matrix.World, row: matrix.Row) -> None:
    matrix.run_row(world, row)
