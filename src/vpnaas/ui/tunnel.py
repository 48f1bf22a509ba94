"""The connection views the console shows, asked of the JSON API in process
as the console's caller: the tunnel panel's telemetry
(``GET /v2.0/vpn/ipsec-site-connections/{id}/tunnel``, ``None`` until a
server serves that route) and the peer configuration download
(``…/peer-config``, docs/api/peer-config.md)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from vpnaas.auth import WSGIApp
from vpnaas.context import RequestContext, set_context

__all__ = ["Answer", "api_get", "peer_config_of", "tunnel_of"]

_CONNECTIONS = "/v2.0/vpn/ipsec-site-connections"


@dataclass(frozen=True)
class Answer:
    """One in-process API answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> tuple[str, str]:
        """The NeutronError type and message of an error answer."""
        doc = orjson.loads(self.body).get("NeutronError", {})
        return str(doc.get("type", "")), str(doc.get("message", ""))


def api_get(api: WSGIApp, ctx: RequestContext, path: str, query: str = "") -> Answer:
    """``GET path?query`` on the API for ``ctx``, without a socket."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_ACCEPT": "application/json",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "openstack.request_id": ctx.request_id,
    }
    set_context(environ, ctx)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((line, headers))
        return lambda data: None

    body = b"".join(api(environ, start_response))
    line, headers = started[0] if started else ("500 Internal Server Error", [])
    return Answer(int(line.split()[0]), {k.lower(): v for k, v in headers}, body)


def tunnel_of(api: WSGIApp, ctx: RequestContext, connection_id: str) -> dict[str, Any] | None:
    """The ``tunnel`` document of a connection, or ``None`` if there is none."""
    answer = api_get(api, ctx, f"{_CONNECTIONS}/{connection_id}/tunnel")
    if answer.status != 200:
        return None
    doc = orjson.loads(answer.body)
    tunnel = doc.get("tunnel") if isinstance(doc, dict) else None
    return tunnel if isinstance(tunnel, dict) else None


def peer_config_of(
    api: WSGIApp, ctx: RequestContext, connection_id: str, fmt: str, include_psk: bool
) -> Answer:
    """The peer configuration answer (the text, or the API's error)."""
    query = urlencode({"format": fmt, "include_psk": "true" if include_psk else "false"})
    return api_get(api, ctx, f"{_CONNECTIONS}/{connection_id}/peer-config", query)
