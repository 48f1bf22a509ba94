"""One VICI session to one charon: typed, decoded, generators consumed.

The ``vici`` package answers in ``bytes`` and streams ``initiate`` and
``terminate`` as generators that do nothing unless iterated to the end;
this module hides both. A socket that closes or cannot be opened raises
:class:`CharonUnavailable`; a command charon refuses raises
:class:`CharonRefused` with charon's message (never the payload: a
``load-shared`` carries the psk).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import vici
import vici.exception

__all__ = [
    "Charon",
    "CharonRefused",
    "CharonUnavailable",
    "InitiateResult",
    "decode",
    "socket_path",
]

#: seconds a command may take before the session is considered dead
COMMAND_TIMEOUT = 30.0
#: how ``stats`` spells charon's start time (in local time)
SINCE_FORMAT = "%b %d %H:%M:%S %Y"


class CharonUnavailable(Exception):
    """charon's VICI socket is closed or cannot be reached."""


class CharonRefused(Exception):
    """charon answered a command with an error."""


def decode(value: Any) -> Any:
    """``bytes`` → ``str``, recursively through dicts and lists."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {decode(k): decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def since_utc(since: str | None) -> str | None:
    """charon's start time as ISO 8601 UTC (``None`` if unknown or unreadable)."""
    if not since:
        return None
    try:
        local = datetime.strptime(since, SINCE_FORMAT).astimezone()
    except ValueError:
        return None
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def socket_path(uri: str) -> str:
    """``unix:///run/x.vici`` → ``/run/x.vici`` (a bare path is accepted)."""
    return uri.removeprefix("unix://")


@dataclass(frozen=True)
class InitiateResult:
    """What an ``initiate`` ended with, and charon's log lines about it."""

    ok: bool
    logs: tuple[str, ...]
    error: str | None = None


class Charon:
    """A VICI command session; reconnect by making a new one."""

    def __init__(self, uri: str, timeout: float = COMMAND_TIMEOUT) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(socket_path(uri))
        except OSError as exc:
            sock.close()
            raise CharonUnavailable(f"cannot reach charon at {uri}: {exc}") from exc
        self.uri = uri
        self._sock = sock
        self.session = vici.Session(sock)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Charon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return decode(getattr(self.session, name)(*args))
        except vici.exception.CommandException as exc:
            raise CharonRefused(f"{name}: {exc}") from None
        except (OSError, vici.exception.SessionException) as exc:
            raise CharonUnavailable(f"{name}: {exc}") from exc

    def _stream(self, name: str, arg: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        try:
            for msg in getattr(self.session, name)(dict(arg)):
                yield decode(msg)
        except vici.exception.CommandException as exc:
            raise CharonRefused(f"{name}: {exc}") from None
        except (OSError, vici.exception.SessionException) as exc:
            raise CharonUnavailable(f"{name}: {exc}") from exc

    # --- reading -----------------------------------------------------------

    def since(self) -> str:
        """When this charon started (``stats`` uptime): a new value means a
        restart, which lost everything loaded over VICI."""
        stats = self._call("stats")
        return str(stats["uptime"]["since"])

    def list_sas(self, ike: str | None = None) -> list[dict[str, Any]]:
        """``list-sas``: one ``{name: sa}`` mapping per IKE SA."""
        filters = {"ike": ike} if ike else {}
        return list(self._stream("list_sas", filters))

    def conns(self) -> list[str]:
        return list(self._call("get_conns").get("conns") or [])

    def shared(self) -> list[str]:
        return list(self._call("get_shared").get("keys") or [])

    # --- loading -----------------------------------------------------------

    def load_shared(self, secret: Mapping[str, Any]) -> None:
        self._call("load_shared", dict(secret))

    def unload_shared(self, secret_id: str) -> None:
        self._call("unload_shared", {"id": secret_id})

    def load_conn(self, conn: Mapping[str, Any]) -> None:
        self._call("load_conn", dict(conn))

    def unload_conn(self, name: str) -> None:
        self._call("unload_conn", {"name": name})

    # --- SAs ---------------------------------------------------------------

    def terminate(
        self,
        *,
        ike: str | None = None,
        child: str | None = None,
        ike_id: str | None = None,
        wait_ms: int = 1500,
    ) -> None:
        """End the IKE SAs named ``ike`` (with their children), the one with
        unique id ``ike_id``, or the children named ``child``; forced after
        ``wait_ms`` when the peer does not answer. Nothing to terminate is
        not an error."""
        arg: dict[str, Any] = {"timeout": str(wait_ms), "force": "yes", "loglevel": "-1"}
        for key, value in (("ike", ike), ("child", child), ("ike-id", ike_id)):
            if value:
                arg[key] = value
        try:
            for _ in self._stream("terminate", arg):
                pass
        except CharonRefused:
            pass

    def initiate(self, ike: str, child: str, wait_ms: int) -> InitiateResult:
        """Initiate ``child`` of ``ike`` and wait up to ``wait_ms`` for it,
        keeping charon's log lines (the failure reason is in them)."""
        arg = {"ike": ike, "child": child, "timeout": str(wait_ms), "loglevel": "1"}
        logs: list[str] = []
        try:
            for msg in self._stream("initiate", arg):
                logs.append(str(msg.get("msg", "")))
        except CharonRefused as exc:
            return InitiateResult(False, tuple(logs), str(exc))
        return InitiateResult(True, tuple(logs))
