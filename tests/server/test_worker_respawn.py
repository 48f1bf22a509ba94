"""A worker killed with SIGKILL under load is replaced: the main process of
``vpnaas serve`` survives, a new worker answers within seconds, and every
create that was answered 201 is still there afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import urllib.error
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, running_server

pytestmark = pytest.mark.slow

HEADERS = {"X-Project-Id": "respawn-project"}
WRITERS = 4
#: seconds of load before the kill, and the least after it
LOAD_SECONDS = 8.0
#: the most the server may take to answer a write again after the kill
#: (granian waits 3.5 s before it forks a replacement, which then starts
#: the application; a loaded 2-core machine has taken over 6 s)
RECOVERY_SECONDS = 20.0


def _workers(server: ServerProcess) -> set[int]:
    """PIDs of granian's worker processes: the main process's children
    (forked, so they show its command line) but for multiprocessing's
    resource tracker."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            if ppid == server.pid and b"resource_tracker" not in cmdline:
                found.add(int(entry))
    return found


class Writers:
    """Threads creating IKE policies until told to stop; every id answered
    201 is kept, every other outcome (reset, refused) only counted."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.acknowledged: list[tuple[float, str]] = []
        self.failures = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(WRITERS)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                made = self.server.request(
                    "POST",
                    "v2.0/vpn/ikepolicies",
                    {"ikepolicy": {"name": f"w{n}-{i}"}},
                    headers=HEADERS,
                    timeout=5,
                )
            except (OSError, urllib.error.URLError):
                with self.lock:
                    self.failures += 1
                time.sleep(0.05)
                continue
            assert made.status == 201, made
            with self.lock:
                self.acknowledged.append((time.monotonic(), made.body["ikepolicy"]["id"]))

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def answered_after(self, moment: float) -> bool:
        with self.lock:
            return any(at > moment for at, _ in self.acknowledged)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_killed_worker_is_replaced_and_nothing_acknowledged_is_lost(
    tmp_path: Path, workers: str
) -> None:
    with running_server(tmp_path, args=("--workers", workers)) as server:
        before = _workers(server)
        assert len(before) == int(workers)
        victim = min(before)
        with Writers(server) as load:
            time.sleep(LOAD_SECONDS / 4)
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(LOAD_SECONDS * 3 / 4)
            deadline = killed_at + RECOVERY_SECONDS
            while not load.answered_after(killed_at + 0.5) and time.monotonic() < deadline:
                time.sleep(0.1)
        assert server.alive(), server.log()
        after = _workers(server)
        assert victim not in after
        assert len(after) == int(workers), server.log()
        assert any(at > killed_at + 0.5 for at, _ in load.acknowledged), "no 201 after the kill"
        listed = server.request("GET", "v2.0/vpn/ikepolicies?fields=id", headers=HEADERS)
        stored = {p["id"] for p in listed.body["ikepolicies"]}
        assert {made for _, made in load.acknowledged} <= stored
