"""HTTP plumbing shared by every route: bodies in, JSON out, errors rendered.

Falcon does the routing; this module turns its requests into calls on the
controller and every failure into a ``{"NeutronError": ...}`` document.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections import OrderedDict
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
    """DELETE carries no body (``docs/api/common.md`` §bodies)."""
    if read_body(req, limit).strip():
        raise errors.HTTPBadRequest(msg="Request body is not supported in DELETE.")


def send(resp: falcon.Response, doc: Any, status: int = 200) -> None:
    send_encoded(resp, orjson.dumps(doc), status)


def send_encoded(resp: falcon.Response, body: bytes, status: int = 200) -> None:
    resp.status = status
    resp.content_type = "application/json"
    resp.data = body


class _Tags:
    """Entity tags of recent bodies, by identity: a list served from the
    response cache is the same ``bytes`` object each time, so its tag is
    computed once. Bounded in bytes (the bodies are kept alive while here)."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._tags: OrderedDict[int, tuple[bytes, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __call__(self, body: bytes) -> str:
        with self._lock:
            found = self._tags.get(id(body))
            if found is not None and found[0] is body:
                self._tags.move_to_end(id(body))
                return found[1]
        # two checksums and the length tell one list from its next version
        # (not a defence against forgery: a tag only decides whether a
        # client's own copy is still current)
        tag = f'"{zlib.crc32(body):08x}{zlib.adler32(body):08x}-{len(body):x}"'
        self.keep(body, tag)
        return tag

    def keep(self, body: bytes, tag: str) -> None:
        """Remember ``tag`` as ``body``'s (a list kept as rows tags itself
        from its rows' checksums, :mod:`vpnaas.api.lists`)."""
        if len(body) <= self.max_bytes // 8:
            with self._lock:
                old = self._tags.pop(id(body), None)
                self._bytes += len(body) - (len(old[0]) if old else 0)
                self._tags[id(body)] = (body, tag)
                while self._bytes > self.max_bytes:
                    _, (evicted, _) = self._tags.popitem(last=False)
                    self._bytes -= len(evicted)


#: a strong entity tag for a body (quoted, as it goes on the wire)
etag = _Tags()


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``tag`` (weak or strong) or ``*``."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip().removeprefix("W/")
        if candidate in (tag, "*"):
            return True
    return False


def send_tagged(req: falcon.Request, resp: falcon.Response, body: bytes) -> None:
    """Send an encoded read with its ``ETag``; 304 without a body when the
    client already holds it (``If-None-Match``), so polling an unchanged
    list costs no transfer."""
    tag = etag(body)
    resp.set_header("ETag", tag)
    if matches(req.get_header("If-None-Match"), tag):
        resp.status = 304
        return
    send_encoded(resp, body)


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
