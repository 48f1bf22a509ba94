"""``vpnaas serve`` stops on SIGTERM or SIGINT whenever it comes: while it
prepares the database, while granian's workers start, while it serves; and
with ``--driver strongswan`` agents waiting in long polls are answered
(304) at once instead of holding the agent listener until their wait ends.

Each server runs in a session of its own, so "stopped" means that no
process of that session is left, children and grandchildren included.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import LOOPBACK, free_port
from tests.support.server import serve_command
from vpnaas.lab.server import spawn

pytestmark = pytest.mark.slow

#: long enough for a server that stops, far too short for one that hangs
STOP_LIMIT = 30.0
#: what a waiting agent asks for: longer than any stop may take
POLL_WAIT = 50


class Launched:
    """``vpnaas serve`` started by PID in its own session, log in a file."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.port = free_port()
        self.log_path = workdir / "server.log"
        cmd = serve_command(workdir, self.port, *args)
        self.process = spawn(cmd, self.log_path, workdir)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"no {text!r} in\n{self.log()}"
            time.sleep(0.01)

    def session_alive(self) -> bool:
        """Whether any process of the server's session is left."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stopped(self, timeout: float = STOP_LIMIT) -> bool:
        """Whether the server and every process it started are gone within
        ``timeout`` seconds (if not, they are killed here)."""
        began = time.monotonic()
        deadline = began + timeout
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        while self.session_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"stopped after {time.monotonic() - began:.2f} s")  # shown with -s
        if self.process.poll() is None or self.session_alive():
            self.kill()
            return False
        return True

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[type[Launched]]:
    started: list[Launched] = []

    class Tracked(Launched):
        def __init__(self, workdir: Path, *args: str) -> None:
            super().__init__(workdir, *args)
            started.append(self)

    try:
        yield Tracked
    finally:
        for server in started:
            if server.session_alive():
                server.kill()


#: a line of the log that marks each moment of start-up
MOMENTS = {
    "preparing": "Running upgrade",
    "spawning workers": "Spawning worker",
    "serving": "Started worker-1 runtime-1",
}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_signal_at_any_moment_stops_the_server(
    launch: type[Launched], tmp_path: Path, moment: str, sig: signal.Signals
) -> None:
    server = launch(tmp_path)
    server.wait_for(MOMENTS[moment])
    server.process.send_signal(sig)
    assert server.stopped(), f"still running after {sig.name}:\n{server.log()}"


def _poll(port: int, router: str, known: str) -> int:
    query = urllib.parse.urlencode(
        {"host": "gw", "router": router, "known": known, "wait": POLL_WAIT}
    )
    url = f"http://{LOOPBACK}:{port}/agent/v1/state?{query}"
    try:
        with urllib.request.urlopen(url, timeout=POLL_WAIT + 30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)


def _revision(port: int, router: str) -> str:
    url = f"http://{LOOPBACK}:{port}/agent/v1/state?host=gw&router={router}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return str(json.loads(resp.read())["revision"])
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, "the agent listener never answered"
            time.sleep(0.2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_waiting_long_polls_are_answered_when_the_server_stops(
    launch: type[Launched], tmp_path: Path, sig: signal.Signals
) -> None:
    agent_port = free_port()
    conf = tmp_path / "vpnaas.conf"
    conf.write_text(f"[agent_api]\nbind_port = {agent_port}\n", encoding="utf-8")
    server = launch(tmp_path, "--driver", "strongswan", "--config-file", str(conf))
    revision = _revision(agent_port, "r-waiting")
    statuses: list[int | str] = []

    def wait() -> None:
        try:
            statuses.append(_poll(agent_port, "r-waiting", revision))
        except OSError as exc:  # the connection was cut instead of answered
            statuses.append(repr(exc))

    polls = [threading.Thread(target=wait, daemon=True) for _ in range(5)]
    for thread in polls:
        thread.start()
    time.sleep(1.5)  # every poll is waiting now
    assert statuses == []
    began = time.monotonic()
    server.process.send_signal(sig)
    for thread in polls:
        thread.join(POLL_WAIT + 30)
    answered = time.monotonic() - began
    assert statuses == [304] * 5, server.log()
    # answered, not waited out: far sooner than the wait they asked for
    assert answered < POLL_WAIT / 2, f"{answered:.1f} s"
    assert server.stopped(), server.log()
