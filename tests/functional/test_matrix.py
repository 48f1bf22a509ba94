"""The authorization matrix (:mod:`tests.support.matrix`) in ``noauth`` mode:
every actor is a set of identity headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import matrix


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[matrix.World]:
    world = matrix.noauth_world(tmp_path_factory.mktemp("matrix-noauth"))
    yield matrix.build(world)
    world.close()


@pytest.mark.parametrize("row", matrix.params())
def test_matrix(world: matrix.World, row: matrix.Row) -> None:
    matrix.run_row(world, row)
