"""One build of the desired states serves every waiting agent whose
counters it covers, and a build that waited out the pause holds the writes
made meanwhile (``vpnaas.api.agent.SharedStates``)."""

from __future__ import annotations

import threading
from typing import Any

from vpnaas.api.agent import SharedStates, Version

ROUTER = ("r1",)


def _version(connections: int, services: int = 1) -> Version:
    return (("ipsec_site_connection", connections), ("vpnservice", services))


class Counters:
    """The write counters a build reads, moved by the test."""

    def __init__(self, version: Version) -> None:
        self.version = version

    def __call__(self) -> Version:
        return self.version


class Builds:
    """A build function that records the counters each build saw."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.seen: list[Version] = []

    def __call__(self, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], dict[str, Any]]:
        self.seen.append(self.counters.version)
        return {key: {"revision": str(self.counters.version)} for key in keys}


def test_a_build_at_newer_counters_answers_an_older_waiter() -> None:
    counters = Counters(_version(5))
    builds = Builds(counters)
    shared = SharedStates(builds, min_interval=0.0, current=counters)
    newer = shared.get(_version(5), ROUTER)
    assert shared.get(_version(4), ROUTER) is newer  # no second build
    assert shared.get(_version(5, 0), ROUTER) is newer
    assert len(builds.seen) == 1
    counters.version = _version(6)
    assert shared.get(_version(6), ROUTER)["revision"] == str(_version(6))
    assert len(builds.seen) == 2


def test_a_counter_not_covered_builds_again() -> None:
    counters = Counters(_version(5))
    builds = Builds(counters)
    shared = SharedStates(builds, min_interval=0.0, current=counters)
    shared.get(_version(5), ROUTER)
    counters.version = _version(5, 2)  # a service written: not covered
    shared.get(_version(5, 2), ROUTER)
    assert builds.seen == [_version(5), _version(5, 2)]


def test_a_build_after_the_pause_reads_the_counters_again() -> None:
    """Under a stream of writes the second build waits out the pause; the
    writes made while it waited are in it, so no third build (and no
    third pause) is needed for them."""
    counters = Counters(_version(1))
    builds = Builds(counters)
    shared = SharedStates(builds, min_interval=0.3, current=counters)
    shared.get(_version(1), ROUTER)
    counters.version = _version(2)
    timer = threading.Timer(0.1, lambda: setattr(counters, "version", _version(7)))
    timer.start()
    try:
        state = shared.get(_version(2), ROUTER)
    finally:
        timer.cancel()
    assert state["revision"] == str(_version(7))
    assert builds.seen == [_version(1), _version(7)]
    assert shared.get(_version(7), ROUTER) is state


def test_an_agent_that_starts_waiting_during_the_pause_is_in_that_build() -> None:
    """Two agents polling in turn: the second starts waiting while the
    first's build waits out the pause, and is answered by that build (it
    once had to wait for a build of its own, one pause later)."""
    counters = Counters(_version(1))
    keys: list[list[tuple[str, ...]]] = []

    def build(wanted: list[tuple[str, ...]]) -> dict[tuple[str, ...], dict[str, Any]]:
        keys.append(wanted)
        return {key: {"revision": str(counters.version)} for key in wanted}

    shared = SharedStates(build, min_interval=0.4, current=counters)
    shared.get(_version(1), ROUTER)
    counters.version = _version(2)
    answers: dict[tuple[str, ...], dict[str, Any]] = {}

    def wait(key: tuple[str, ...]) -> None:
        with shared.waiting_for(key):
            answers[key] = shared.get(_version(2), key)

    first = threading.Thread(target=wait, args=(ROUTER,))
    first.start()
    for _ in range(200):  # until the first holds the build's lock, in its pause
        if shared.lock.locked():
            break
        threading.Event().wait(0.005)
    second = threading.Thread(target=wait, args=(("r2",),))
    second.start()
    first.join(5)
    second.join(5)
    assert keys == [[ROUTER], [ROUTER, ("r2",)]]
    assert answers[("r2",)]["revision"] == str(_version(2))
