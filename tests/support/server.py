"""A real ``vpnaas serve`` process for client tests.

:func:`start_server` runs ``python -m vpnaas serve`` on a free loopback port
with a private SQLite database (and optional extra INI configuration), waits
until the version document at ``GET /`` answers, and returns a
:class:`ServerProcess`. :meth:`ServerProcess.stop` ends it by PID (SIGTERM,
then SIGKILL after a timeout). Everything the server prints goes to
``<workdir>/server.log``, which tests attach to failure reports.

Only loopback addresses are ever used.
"""

from __future__ import annotations

import configparser
import contextlib
import http.client
import http.server
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.net import LOOPBACK, free_port
from vpnaas.lab.server import answers, decode, exchange, spawn, stop_process

__all__ = [
    "HOSTS",
    "IdentityProxy",
    "Response",
    "ServerError",
    "ServerProcess",
    "WireRequest",
    "free_port",
    "running_server",
    "start_server",
]


#: Peer host names resolved from the server's private hosts file.
HOSTS = "198.51.100.7 peer.example.test\n2001:db8:77::7 peer6.example.test\n"

Config = Mapping[str, Mapping[str, str]]


class ServerError(RuntimeError):
    """The server did not come up (its log is in the message)."""


@dataclass(frozen=True)
class Response:
    """One HTTP exchange: status, headers (lower-cased names) and JSON body."""

    status: int
    headers: Mapping[str, str]
    body: Any

    def error(self) -> Mapping[str, Any]:
        """The ``NeutronError`` document of an error response."""
        err = self.body.get("NeutronError") if isinstance(self.body, dict) else None
        assert isinstance(err, dict), f"no NeutronError in {self.status} {self.body!r}"
        return err


def _write_config(path: Path, config: Config) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    for section, options in config.items():
        if section != "DEFAULT":
            parser.add_section(section)
        for key, value in options.items():
            parser.set(section, key, value)
    with path.open("w", encoding="utf-8") as f:
        parser.write(f)


def _merge(base: Config, extra: Config | None) -> dict[str, dict[str, str]]:
    merged = {section: dict(options) for section, options in base.items()}
    for section, options in (extra or {}).items():
        merged.setdefault(section, {}).update(options)
    return merged


@dataclass
class ServerProcess:
    """A running ``vpnaas serve``; ``url`` ends with ``/``."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    log_path: Path
    public_network_id: str
    config: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self, start: int = 0) -> str:
        """The server's output from byte offset ``start`` on."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Response:
        """Send ``method path`` (relative to the root, e.g. ``v2.0/vpn/...``)
        with a JSON ``body``; never raises for HTTP error statuses."""
        url = self.url + path.lstrip("/")
        return _response(*exchange(method, url, body, headers or {}, timeout))

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the server, SIGKILL it (and its process group, which
        holds only its own workers) if it is still there after ``timeout``."""
        stop_process(self.process, timeout)
        return self.process.returncode


def _response(status: int, headers: Any, raw: bytes) -> Response:
    return Response(status, {k.lower(): v for k, v in headers}, decode(raw))


def serve_command(workdir: Path, port: int, *args: str) -> list[str]:
    """``vpnaas serve`` on loopback ``port`` with a SQLite file in ``workdir``."""
    database = f"sqlite:///{workdir / 'vpnaas.sqlite'}"
    return [
        *(sys.executable, "-m", "vpnaas", "serve", "--host", LOOPBACK, "--port", str(port)),
        *("--database-url", database, *args),
    ]


def start_server(
    workdir: Path,
    *,
    config: Config | None = None,
    args: tuple[str, ...] = (),
    startup_timeout: float = 60.0,
    attempts: int = 3,
) -> ServerProcess:
    """Start ``vpnaas serve`` in ``workdir`` (database, config, hosts file,
    log all live there) and wait for ``GET /``.

    ``config`` sections are merged over the defaults written here: the
    seeded external network gets a fixed id (``public_network_id``) and peer
    host names resolve only from :data:`HOSTS`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    hosts = workdir / "hosts"
    hosts.write_text(HOSTS, encoding="utf-8")
    base: dict[str, dict[str, str]] = {
        "topology": {"external_network_id": str(uuid.uuid4())},
        "vpnaas": {"peer_hosts_file": str(hosts)},
    }
    merged = _merge(base, config)
    conf_path = workdir / "vpnaas.conf"
    _write_config(conf_path, merged)
    log_path = workdir / "server.log"
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        cmd = serve_command(workdir, port, "--config-file", str(conf_path), *args)
        process = spawn(cmd, log_path, workdir)
        server = ServerProcess(
            process=process,
            port=port,
            workdir=workdir,
            log_path=log_path,
            public_network_id=merged["topology"]["external_network_id"],
            config=merged,
        )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and server.alive():
            if answers(server.url):
                return server
            time.sleep(0.1)
        server.stop()
        last_error = f"vpnaas serve (port {port}) did not answer GET /"
        if time.monotonic() < deadline:
            last_error = f"vpnaas serve exited with {process.returncode}"
    raise ServerError(f"{last_error}\n--- server log ---\n{log_path.read_text('utf-8', 'replace')}")


@contextlib.contextmanager
def running_server(
    workdir: Path, *, config: Config | None = None, args: tuple[str, ...] = ()
) -> Iterator[ServerProcess]:
    """:func:`start_server` as a context manager that always stops it."""
    server = start_server(workdir, config=config, args=args)
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class WireRequest:
    """A request as a client sent it through :class:`IdentityProxy`."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    status: int

    def json(self) -> Any:
        return self.body


#: hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1)
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class IdentityProxy:
    """A loopback reverse proxy in front of a :class:`ServerProcess` that adds
    identity headers (``X-Project-Id``, ``X-User-Id``, ``X-Roles``), the way
    keystonemiddleware would from a token, for clients that cannot send
    extra headers themselves (the ``openstack`` CLI). Bodies, paths and the
    ``Host`` header pass through unchanged; every exchange is recorded in
    :attr:`requests` so tests can check what the client put on the wire.
    """

    def __init__(self, upstream: ServerProcess, identity: Mapping[str, str]) -> None:
        self.upstream = upstream
        self.identity = dict(identity)
        self.requests: list[WireRequest] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _forward(self) -> None:
                proxy._forward(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward  # noqa: N815

        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        port: int = self._httpd.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def find(self, method: str, path_prefix: str) -> list[WireRequest]:
        """Recorded requests with ``method`` whose path starts with ``path_prefix``."""
        with self._lock:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
            ]

    def _forward(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        for name in list(headers):
            if name.lower() in {h.lower() for h in self.identity}:
                del headers[name]
        headers.update(self.identity)
        conn = http.client.HTTPConnection(LOOPBACK, self.upstream.port, timeout=60)
        try:
            conn.request(handler.command, handler.path, body=raw or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            resp_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP]
        finally:
            conn.close()
        body = decode(raw)
        with self._lock:
            self.requests.append(
                WireRequest(handler.command, handler.path, dict(handler.headers), body, status)
            )
        handler.send_response(status)
        for key, value in resp_headers:
            if key.lower() not in {"content-length", "date", "server"}:
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)

    def __enter__(self) -> IdentityProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
