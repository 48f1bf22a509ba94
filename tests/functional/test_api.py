"""Load every gabbi story in ``gabbits/`` as pytest items, served in process."""

from __future__ import annotations

import os

import pytest
from gabbi import driver
from gabbi.driver import test_pytest  # noqa: F401 - the item gabbi parametrizes

from tests.functional import fixtures

GABBITS = os.path.join(os.path.dirname(__file__), "gabbits")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    driver.py_test_generator(
        GABBITS,
        intercept=fixtures.current_app,
        fixture_module=fixtures,
        metafunc=metafunc,
        test_loader_name=__name__,
    )
