"""HTTP plumbing shared by every route: bodies in, JSON out, errors rendered.

Falcon does the routing; this module turns its requests into calls on the
controller and every failure into a ``{"NeutronError": ...}`` document.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon
import orjson

from vpnaas import errors
from vpnaas.api.body import load_json
from vpnaas.api.query import Params, parse_params
from vpnaas.context import RequestContext, get_context

__all__ = ["Shape", "base_url", "context", "handle_error", "read_body", "send"]

LOG = logging.getLogger(__name__)


def context(req: falcon.Request) -> RequestContext:
    return get_context(req.env)


def params(req: falcon.Request) -> Params:
    return parse_params(req.query_string)


def read_body(req: falcon.Request, limit: int) -> bytes:
    """The raw request body, refused above ``limit`` bytes. A body without
    ``Content-Length`` (chunked) is read to its end when the server marks
    the input as terminated (PEP 3333's ``wsgi.input_terminated``)."""
    if req.content_length is None and req.env.get("wsgi.input_terminated"):
        data = req.stream.read(limit + 1)
    else:
        data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise errors.HTTPRequestEntityTooLarge()
    return data


def json_body(req: falcon.Request, limit: int) -> Any:
    return load_json(read_body(req, limit))


def no_body(req: falcon.Request, limit: int) -> None:
    """DELETE carries no body (``behaviour.md`` §3)."""
    if read_body(req, limit).strip():
        raise errors.HTTPBadRequest(msg="Request body is not supported in DELETE.")


def send(resp: falcon.Response, doc: Any, status: int = 200) -> None:
    send_encoded(resp, orjson.dumps(doc), status)


def send_encoded(resp: falcon.Response, body: bytes, status: int = 200) -> None:
    resp.status = status
    resp.content_type = "application/json"
    resp.data = body


def base_url(req: falcon.Request, link_prefix: str | None) -> str:
    """The request URL without query string, as paging links start."""
    if link_prefix:
        return link_prefix.rstrip("/") + req.path
    return req.prefix + req.path


#: the methods some route serves; any other is a 405 wherever it is sent
SERVED_METHODS = ("GET", "POST", "PUT", "DELETE")


class Shape:
    """Normalise requests before routing: accept ``…/ikepolicies.json`` as
    ``…/ikepolicies`` (Routes' format suffix); serve ``HEAD`` as ``GET``
    without the body; answer any method a resource does not serve (OPTIONS,
    PATCH, a method Falcon does not know, which it would call a 400) 405
    with ``Allow``."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if "\x00" in req.path:  # no id or name can contain one; databases refuse it
            raise errors.HTTPNotFound()
        if req.path.endswith(".json") and req.path.startswith("/v2.0/"):
            req.path = req.path[: -len(".json")]
        if req.method == "HEAD":
            req.method = "GET"
            req.context.head = True

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: Any
    ) -> None:
        if resource is not None and not callable(
            getattr(resource, f"on_{req.method.lower()}", None)
        ):
            allowed = [
                m for m in SERVED_METHODS if callable(getattr(resource, f"on_{m.lower()}", None))
            ]
            if "GET" in allowed:
                allowed.insert(1, "HEAD")
            raise falcon.HTTPMethodNotAllowed(allowed)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, succeeded: bool
    ) -> None:
        if req.context.get("head"):
            req.method = "HEAD"  # Falcon then sends the headers without the body


_FALCON_ERRORS: dict[int, type[errors.ApiError]] = {
    404: errors.HTTPNotFound,
    405: errors.HTTPMethodNotAllowed,
}


def handle_error(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    """Render any failure as a NeutronError document (500 only for bugs)."""
    headers: dict[str, str] = {}
    if isinstance(exc, errors.ApiError):
        error = exc
    elif isinstance(exc, falcon.HTTPError):
        status = int(exc.status_code)
        error = _FALCON_ERRORS.get(status, errors.HTTPBadRequest)(
            **({} if status in _FALCON_ERRORS else {"msg": exc.title})
        )
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Falcon lists OPTIONS, which this API does not serve
            allowed = [m.strip() for m in headers["Allow"].split(",")]
            headers["Allow"] = ", ".join(m for m in allowed if m != "OPTIONS")
    else:
        LOG.exception("unexpected error serving %s %s", req.method, req.path)
        error = errors.HTTPInternalServerError()
    send(resp, error.body(), error.status)
    for name, value in headers.items():
        resp.set_header(name, value)
