"""``vpnaas serve --driver strongswan`` for the demo and the data-plane
benchmark, and a small JSON client of its API.

The server's SQLite file, configuration and log live in a directory the
caller owns; it listens on loopback only and is stopped by its PID (SIGTERM,
then SIGKILL to its own session, which holds only its workers).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpnaas.db.secrets import generate_key
from vpnaas.lab.net import LOOPBACK, free_port

__all__ = [
    "IDENTITY",
    "Api",
    "ApiError",
    "LabServer",
    "answers",
    "decode",
    "exchange",
    "lab_server",
    "spawn",
    "stop_process",
]

#: a project member who is also admin (noauth reads these headers)
IDENTITY = {"X-Project-Id": "demo0project", "X-User-Id": "demo", "X-Roles": "admin,member"}


class ApiError(RuntimeError):
    """The API answered with an unexpected status."""


@dataclass
class LabServer:
    """A running ``vpnaas serve``; ``url`` and ``agent_url`` end with ``/``."""

    process: subprocess.Popen[bytes]
    port: int
    agent_port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def agent_url(self) -> str:
        return f"http://{LOOPBACK}:{self.agent_port}/"

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM by PID; SIGKILL its session if it is still there after
        ``timeout`` (held long polls can keep it waiting)."""
        stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM ``process``, then SIGKILL its process group (a session of its
    own, holding only its workers) if it has not exited after ``timeout``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)


def answers(url: str) -> bool:
    """Whether ``GET url`` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


def spawn(cmd: list[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start a server command in a session of its own, its output (after the
    command line) appended to ``log_path``."""
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(cmd)}\n".encode())
        log.flush()
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def start(workdir: Path, agent_down_time: int = 6, extra: str = "") -> LabServer:
    """Start the server with its files in ``workdir`` and wait for ``GET /``."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, agent_port = free_port(), free_port()
    conf = workdir / "vpnaas.conf"
    # psks sealed at rest, as an operator runs it: the agents get them opened
    conf.write_text(
        f"[vpnaas]\ndriver = strongswan\nsecret_key = {generate_key()}\n"
        f"[agent_api]\nbind_port = {agent_port}\nagent_down_time = {agent_down_time}\n" + extra,
        encoding="utf-8",
    )
    log_path = workdir / "server.log"
    cmd = [
        sys.executable, "-m", "vpnaas", "serve",
        "--host", LOOPBACK,
        "--port", str(port),
        "--database-url", f"sqlite:///{workdir / 'vpnaas.sqlite'}",
        "--config-file", str(conf),
    ]  # fmt: skip
    process = spawn(cmd, log_path, workdir)
    server = LabServer(process, port, agent_port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if answers(server.url):
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"vpnaas serve did not answer:\n{server.log()[-3000:]}")


@contextlib.contextmanager
def lab_server(workdir: Path, agent_down_time: int = 6, extra: str = "") -> Iterator[LabServer]:
    """:func:`start` as a context manager that always stops it."""
    server = start(workdir, agent_down_time, extra)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Api:
    """JSON calls to the public API as :data:`IDENTITY`."""

    url: str
    headers: Mapping[str, str] = field(default_factory=lambda: dict(IDENTITY))

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, answer = self.request(method, path, body)
        if status != expect:
            raise ApiError(f"{method} /{path}: {status} {answer!r}"[:2000])
        return answer

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """``(status, body)``; a body that is not JSON comes back as text."""
        status, _, raw = exchange(method, self.url + path, body, self.headers, 60.0)
        return status, decode(raw)

    def create(self, path: str, member: str, body: Mapping[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.call("POST", f"v2.0/{path}", {member: body}, 201)[member]
        return created


def exchange(
    method: str, url: str, body: Any, headers: Mapping[str, str], timeout: float
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP exchange with a JSON ``body`` (None: no body): status,
    headers and raw body; HTTP error statuses are answers, not exceptions."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Accept": "application/json"}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers)
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), list(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, list(exc.headers.items()), exc.read()


def decode(raw: bytes) -> Any:
    """A body as JSON, or as text when it is not JSON (None when empty)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
