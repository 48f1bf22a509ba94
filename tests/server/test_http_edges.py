"""HTTP edge cases only a real ``vpnaas serve`` shows: chunked request
bodies, the front's 413/414/431 as NeutronError documents with a request id,
HEAD and unknown methods on the wire. Limits are set small here so the
requests stay small."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import LOOPBACK
from tests.support.server import ServerProcess, running_server

pytestmark = pytest.mark.slow

PROJECT = "edge-project"
HEADERS = {"X-Project-Id": PROJECT, "Content-Type": "application/json"}
LIMITS = {"max_request_body_size": "4096", "max_url_length": "1024", "max_header_line": "1024"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("edges")
    with running_server(workdir, config={"DEFAULT": LIMITS}) as proc:
        yield proc


def _exchange(
    server: ServerProcess,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] = HEADERS,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, server.port, timeout=30)
    try:
        try:
            conn.request(
                method, path, body=body, headers=dict(headers), encode_chunked=body is not None
            )
        except (BrokenPipeError, ConnectionResetError):
            # a refusal (413) may come, and the connection close, before the
            # client has sent all of its body: the answer is still to read
            if body is None:
                raise
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _chunks(doc: Any, size: int = 7) -> Iterator[bytes]:
    raw = json.dumps(doc).encode()
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def _error(status: int, headers: Mapping[str, str], raw: bytes) -> dict[str, str]:
    assert headers["x-openstack-request-id"].startswith("req-")
    assert headers["content-type"].startswith("application/json")
    error: dict[str, str] = json.loads(raw)["NeutronError"]
    return error


def _names(server: ServerProcess) -> list[str]:
    listed = server.request("GET", "v2.0/vpn/ikepolicies", headers={"X-Project-Id": PROJECT})
    return [p["name"] for p in listed.body["ikepolicies"]]


def test_a_chunked_body_creates(server: ServerProcess) -> None:
    doc = {"ikepolicy": {"name": "chunked", "description": "sent in pieces"}}
    status, _, raw = _exchange(server, "POST", "/v2.0/vpn/ikepolicies", _chunks(doc))
    assert status == 201, raw
    assert json.loads(raw)["ikepolicy"]["description"] == "sent in pieces"
    assert "chunked" in _names(server)


def test_a_chunked_body_over_the_size_limit_is_413(server: ServerProcess) -> None:
    doc = {"ikepolicy": {"name": "too-big", "description": "x" * 5000}}
    status, headers, raw = _exchange(server, "POST", "/v2.0/vpn/ikepolicies", _chunks(doc, 512))
    assert status == 413
    assert _error(status, headers, raw)["type"] == "HTTPRequestEntityTooLarge"
    assert "too-big" not in _names(server)


def test_a_url_over_the_limit_is_414(server: ServerProcess) -> None:
    status, headers, raw = _exchange(server, "GET", "/v2.0/vpn/ikepolicies?name=" + "a" * 1100)
    assert status == 414
    error = _error(status, headers, raw)
    assert error["type"] == "HTTPRequestURITooLong"
    assert error["message"] == "The request URL is longer than 1024 characters."


def test_a_header_line_over_the_limit_is_431(server: ServerProcess) -> None:
    headers = {**HEADERS, "X-Padding": "p" * 1100}
    status, answered, raw = _exchange(server, "GET", "/v2.0/vpn/ikepolicies", headers=headers)
    assert status == 431
    error = _error(status, answered, raw)
    assert error["type"] == "HTTPRequestHeaderFieldsTooLarge"
    assert error["message"] == "The request header x-padding is longer than 1024 characters."


def test_a_request_within_the_limits_is_served(server: ServerProcess) -> None:
    headers = {**HEADERS, "X-Padding": "p" * 900}
    status, _, _ = _exchange(
        server, "GET", "/v2.0/vpn/ikepolicies?name=" + "a" * 900, None, headers
    )
    assert status == 200


def test_head_answers_get_headers_without_a_body_on_a_kept_connection(
    server: ServerProcess,
) -> None:
    conn = http.client.HTTPConnection(LOOPBACK, server.port, timeout=30)
    try:
        conn.request("GET", "/v2.0/vpn/ikepolicies", headers=HEADERS)
        got = conn.getresponse()
        body = got.read()
        conn.request("HEAD", "/v2.0/vpn/ikepolicies", headers=HEADERS)
        head = conn.getresponse()
        assert head.status == 200
        assert head.read() == b""
        assert head.getheader("content-length") == str(len(body))
        conn.request("GET", "/v2.0/vpn/ikepolicies", headers=HEADERS)  # the same connection
        assert conn.getresponse().read() == body
    finally:
        conn.close()


def test_an_unknown_method_is_405_with_allow(server: ServerProcess) -> None:
    status, headers, raw = _exchange(server, "FOO", "/v2.0/vpn/ikepolicies")
    assert status == 405
    assert headers["allow"] == "GET, HEAD, POST"
    assert _error(status, headers, raw)["type"] == "HTTPMethodNotAllowed"


def test_a_body_cut_short_of_its_length_is_refused_and_not_run(server: ServerProcess) -> None:
    body = json.dumps({"ikepolicy": {"name": "cut-short"}}).encode()
    head = (
        "POST /v2.0/vpn/ikepolicies HTTP/1.1\r\nHost: vpnaas\r\n"
        f"X-Project-Id: {PROJECT}\r\nContent-Length: {len(body) + 50}\r\n\r\n"
    )
    with socket.create_connection((LOOPBACK, server.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)  # a valid document, then the client stops
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    status_line, _, rest = raw.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 400 "), raw
    error = json.loads(rest.partition(b"\r\n\r\n")[2])["NeutronError"]
    assert error["message"] == "The request body ended before its Content-Length."
    assert "cut-short" not in _names(server)
