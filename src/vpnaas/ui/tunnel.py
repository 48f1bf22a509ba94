"""The tunnel panel's data: the connection's telemetry sub-resource
(``GET /v2.0/vpn/ipsec-site-connections/{id}/tunnel``), asked of the JSON API
in process as the console's caller. Until a data plane serves that route,
the answer is ``None`` and the panel shows the status and why there is no
tunnel to describe."""

from __future__ import annotations

import io
from typing import Any

import orjson

from vpnaas.auth import WSGIApp
from vpnaas.context import RequestContext, set_context

__all__ = ["tunnel_of"]


def tunnel_of(api: WSGIApp, ctx: RequestContext, connection_id: str) -> dict[str, Any] | None:
    """The ``tunnel`` document of a connection, or ``None`` if there is none."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": f"/v2.0/vpn/ipsec-site-connections/{connection_id}/tunnel",
        "QUERY_STRING": "",
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
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = b"".join(api(environ, start_response))
    if not status or not status[0].startswith("200"):
        return None
    doc = orjson.loads(body)
    tunnel = doc.get("tunnel") if isinstance(doc, dict) else None
    return tunnel if isinstance(tunnel, dict) else None
