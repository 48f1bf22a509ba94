"""The response cache's single flight: concurrent misses at the same counters
build once; a failed build leaves each waiter to build (and fail) itself."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor

import pytest

from vpnaas.api.cache import ResponseCache

WAITERS = 6


class SlowBuilder:
    """Builds a body once the test lets it; counts its calls."""

    def __init__(self, body: bytes, version: Hashable, fail: bool = False) -> None:
        self.body = body
        self.version = version
        self.fail = fail
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> tuple[Hashable, bytes]:
        with self._lock:
            self.calls += 1
        self.started.set()
        assert self.release.wait(10)
        if self.fail:
            raise ValueError("no body")
        return self.version, self.body


def _all_waiting(cache: ResponseCache, key: Hashable, version: Hashable) -> None:
    """Until the leader's flight exists (the others then find it)."""
    for _ in range(1000):
        if (key, version) in cache._flights:
            return
        threading.Event().wait(0.001)
    raise AssertionError("no flight started")


def test_concurrent_misses_build_once_and_share_the_body() -> None:
    cache = ResponseCache()
    builder = SlowBuilder(b'{"items": []}', version=(("item", 3),))
    with ThreadPoolExecutor(WAITERS) as pool:
        leader = pool.submit(cache.build, "k", (("item", 3),), builder)
        assert builder.started.wait(10)
        _all_waiting(cache, "k", (("item", 3),))
        others = [pool.submit(cache.build, "k", (("item", 3),), builder) for _ in range(3)]
        threading.Event().wait(0.05)  # let them reach the flight
        builder.release.set()
        bodies = [leader.result(10), *(f.result(10) for f in others)]
    assert bodies == [b'{"items": []}'] * 4
    assert builder.calls == 1
    assert cache.get("k", (("item", 3),)) == b'{"items": []}'
    assert not cache._flights


def test_a_newer_version_does_not_wait_for_an_older_build() -> None:
    cache = ResponseCache()
    old = SlowBuilder(b"old", version=1)
    new = SlowBuilder(b"new", version=2)
    new.release.set()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.build, "k", 1, old)
        assert old.started.wait(10)
        assert cache.build("k", 2, new) == b"new"
        old.release.set()
        assert first.result(10) == b"old"
    assert (old.calls, new.calls) == (1, 1)


def test_a_failed_build_makes_each_waiter_build_itself() -> None:
    cache = ResponseCache()
    builder = SlowBuilder(b"", version=1, fail=True)
    with ThreadPoolExecutor(3) as pool:
        leader = pool.submit(cache.build, "k", 1, builder)
        assert builder.started.wait(10)
        follower = pool.submit(cache.build, "k", 1, builder)
        threading.Event().wait(0.05)
        builder.release.set()
        with pytest.raises(ValueError, match="no body"):
            leader.result(10)
        with pytest.raises(ValueError, match="no body"):
            follower.result(10)
    assert builder.calls == 2
    assert cache.get("k", 1) is None
    assert not cache._flights


def test_a_hit_does_not_build() -> None:
    cache = ResponseCache()
    cache.put("k", 7, b"kept")
    builder = SlowBuilder(b"fresh", version=7)
    assert cache.build("k", 7, builder) == b"kept"
    assert builder.calls == 0
