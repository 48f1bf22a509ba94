"""Test support code shared by the suites: external servers the tests start."""
