"""Slow clients do not stall a real ``vpnaas serve``: with 50 sockets that
announced a body and stopped sending, and 50 that stopped half-way through
their headers, every other client is served as usual; each slow body is
answered 408 with a NeutronError once ``client_body_timeout`` passes, and
each slow header's connection is closed once ``client_header_timeout``
does. Run on one request thread per worker (SQLite's default, where one
stuck thread used to stop everything) and on a pool of four."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import LOOPBACK
from tests.support.server import ServerProcess, running_server

pytestmark = pytest.mark.slow

HEADERS = {"X-Project-Id": "slow-project"}
SLOW = 50
#: seconds the server waits for a body or headers here (the default is 30)
DEADLINE = 8
SLOW_BODY = (
    b"POST /v2.0/vpn/ikepolicies HTTP/1.1\r\nHost: vpnaas\r\nX-Project-Id: slow-project\r\n"
    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"ike'
)
SLOW_HEADER = b"GET /v2.0/vpn/ikepolicies HTTP/1.1\r\nHost: vpnaas\r\nX-Project-"


@pytest.fixture(scope="module", params=[("--threads", "1"), ("--threads", "4")], ids=str)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("slow")
    config = {
        "DEFAULT": {"client_body_timeout": str(DEADLINE), "client_header_timeout": str(DEADLINE)}
    }
    with running_server(workdir, config=config, args=request.param) as proc:
        yield proc


@contextlib.contextmanager
def _held(port: int, opening: bytes, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that sent ``opening`` and then nothing."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((LOOPBACK, port), timeout=DEADLINE * 3)
            sock.sendall(opening)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def _unanswered(sock: socket.socket) -> bool:
    """Nothing has come back on ``sock`` yet, and it is still open."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    finally:
        sock.settimeout(DEADLINE * 3)
    return False


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes or a whole response is in."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        length = [
            int(line.split(b":", 1)[1])
            for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        ]
        if sep and length and len(body) >= length[0]:
            return data


def _serve_others(server: ServerProcess) -> list[str]:
    """Twenty ordinary requests, each bounded well below the deadline."""
    made = []
    for i in range(10):
        created = server.request(
            "POST",
            "v2.0/vpn/ikepolicies",
            {"ikepolicy": {"name": f"n{i}"}},
            headers=HEADERS,
            timeout=DEADLINE / 4,
        )
        assert created.status == 201, created
        made.append(created.body["ikepolicy"]["id"])
        listed = server.request("GET", "v2.0/vpn/ikepolicies", headers=HEADERS, timeout=2)
        assert listed.status == 200
    return made


def test_slow_bodies_and_headers_do_not_stall_other_clients(server: ServerProcess) -> None:
    with (
        _held(server.port, SLOW_BODY, SLOW) as bodies,
        _held(server.port, SLOW_HEADER, SLOW) as headers,
    ):
        started = time.monotonic()
        made = _serve_others(server)
        assert time.monotonic() - started < DEADLINE, "the slow sockets were let go meanwhile"
        assert all(_unanswered(sock) for sock in bodies + headers)
        for sock in bodies:
            raw = _read_all(sock)
            head, _, body = raw.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 "), raw
            assert b"\r\nx-openstack-request-id: req-" in head
            error = json.loads(body)["NeutronError"]
            assert error["type"] == "HTTPRequestTimeout"
            assert error["message"] == f"The request body did not arrive within {DEADLINE} seconds."
        for sock in headers:
            assert sock.recv(65536) == b""  # closed without an answer: no request began
    listed = server.request("GET", "v2.0/vpn/ikepolicies", headers=HEADERS)
    assert sorted(p["id"] for p in listed.body["ikepolicies"]) == sorted(made)
