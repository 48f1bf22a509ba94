"""The VICI session wrapper against a scripted daemon on a Unix socket (the
boundary: charon itself runs in tests/dataplane): streamed commands are
consumed to the end, answers decoded, refusals and lost sockets raised as
the agent's own errors."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from vici.protocol import Message, Packet, Transport

from vpnaas.agent.charon import Charon, CharonRefused, CharonUnavailable, since_utc

Script = list[tuple[str, Any]]


def _named(kind: int, name: str, message: dict[str, Any] | None = None) -> bytes:
    raw = name.encode()
    body = Message.serialize(message) if message is not None else b""
    return struct.pack("!BB", kind, len(raw)) + raw + body


def _serve(listener: socket.socket, script: Script, seen: list[str]) -> None:
    """Answer one client: each request read is recorded, each scripted
    step sends events or the command response."""
    conn, _ = listener.accept()
    transport = Transport(conn)
    try:
        for step, arg in script:
            if step == "close":
                return
            request = Packet.parse(transport.receive())
            name_len = request.payload.read(1)[0]
            seen.append(f"{request.response_type}:{request.payload.read(name_len).decode()}")
            if step == "confirm":
                transport.send(struct.pack("!B", Packet.EVENT_CONFIRM))
            elif step == "stream":
                events, answer = arg
                for event in events:
                    transport.send(_named(Packet.EVENT, "control-log", event))
                transport.send(struct.pack("!B", Packet.CMD_RESPONSE) + Message.serialize(answer))
            elif step == "answer":
                transport.send(struct.pack("!B", Packet.CMD_RESPONSE) + Message.serialize(arg))
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    """A function that starts a scripted daemon and connects to it."""
    path = str(tmp_path / "charon.vici")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    threads: list[threading.Thread] = []
    seen: list[str] = []

    def start(script: Script) -> tuple[Charon, list[str]]:
        thread = threading.Thread(target=_serve, args=(listener, script, seen), daemon=True)
        thread.start()
        threads.append(thread)
        return Charon(f"unix://{path}", timeout=5), seen

    yield start
    for thread in threads:
        thread.join(5)
    listener.close()


def test_initiate_consumes_the_log_stream_and_keeps_its_lines(served: Any) -> None:
    logs = [{"msg": "initiating IKE_SA vpn-c1[1]"}, {"msg": "CHILD_SA c1{1} established"}]
    charon, seen = served(
        [("confirm", None), ("stream", (logs, {"success": "yes"})), ("confirm", None)]
    )
    with charon:
        result = charon.initiate("vpn-c1", "c1", 1000)
    assert result.ok
    assert result.logs == ("initiating IKE_SA vpn-c1[1]", "CHILD_SA c1{1} established")
    assert seen == ["3:control-log", "0:initiate", "4:control-log"]  # registered, ran, unregistered


def test_failed_initiate_returns_the_reason_lines(served: Any) -> None:
    logs = [{"msg": "received AUTHENTICATION_FAILED notify error"}]
    answer = {"success": "no", "errmsg": "establishing CHILD_SA 'c1' failed"}
    charon, _ = served([("confirm", None), ("stream", (logs, answer)), ("confirm", None)])
    with charon:
        result = charon.initiate("vpn-c1", "c1", 1000)
    assert not result.ok
    assert result.logs == ("received AUTHENTICATION_FAILED notify error",)
    assert "failed" in (result.error or "")


def test_refused_command_raises_without_its_payload(served: Any) -> None:
    charon, _ = served([("answer", {"success": "no", "errmsg": "invalid value for: proposals"})])
    with charon, pytest.raises(CharonRefused, match="invalid value") as err:
        charon.load_shared({"id": "psk-x", "type": "IKE", "data": "top-secret", "owners": ["a"]})
    assert "top-secret" not in str(err.value)


def test_answers_are_decoded(served: Any) -> None:
    stats = {"uptime": {"running": "1 minute", "since": "Dec 07 00:13:15 2026"}}
    charon, _ = served([("answer", stats), ("answer", {"conns": ["vpn-a", "vpn-b"]})])
    with charon:
        assert charon.since() == "Dec 07 00:13:15 2026"
        assert charon.conns() == ["vpn-a", "vpn-b"]


def test_a_closed_socket_is_unavailable(served: Any) -> None:
    charon, _ = served([("close", None)])
    with charon, pytest.raises(CharonUnavailable):
        charon.since()


def test_nobody_listening_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CharonUnavailable):
        Charon(f"unix://{tmp_path}/none.vici")


def test_since_becomes_utc_iso() -> None:
    local = datetime(2026, 12, 7, 0, 13, 15).astimezone()
    assert since_utc("Dec  7 00:13:15 2026") == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert since_utc("not a date") is None
    assert since_utc(None) is None
