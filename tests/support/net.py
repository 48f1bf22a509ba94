"""Loopback and free ports for tests: :mod:`vpnaas.lab.net`, shared with
the benchmark and ``make demo``."""

from vpnaas.lab.net import LOOPBACK, free_port

__all__ = ["LOOPBACK", "free_port"]
