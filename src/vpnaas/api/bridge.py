"""What ``vpnaas serve`` hands granian: the WSGI application behind an RSGI
front that reads each request body before a request thread is taken.

granian's WSGI interface calls the application on a blocking thread as soon
as the headers are in, and ``wsgi.input.read()`` then waits for the body on
that thread with no deadline: one client that announces a body and stops
sending holds the thread, and on SQLite (one thread per worker) stops every
other request. Here granian speaks RSGI instead; the body is awaited on the
worker's event loop, within ``client_body_timeout`` and never beyond the
size limit, and only a complete request reaches the WSGI application: on
the loop itself when one request thread is configured, or on a pool of
``threads``. A request without a body never waits for the loop
(:func:`answer_bodyless_first`): with one request thread it is answered
where granian hands it over, on its blocking thread, as its WSGI interface
did; with a pool, that thread hands it straight to a request thread, which
answers it.

The front also answers what must be refused before the application runs,
each as a NeutronError document with its request id: a body that did not
arrive in time (408), a URL longer than ``max_url_length`` (414), a header
line longer than ``max_header_line`` (431). Chunked bodies are read like
any other (the application sees their length). docs/decisions.md records
the measurements behind this design.
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson

from vpnaas import errors
from vpnaas.api.request_id import RequestId

__all__ = ["Bridge", "FrontLimits", "answer_bodyless_first"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, list[tuple[str, str]], bytes]

#: WSGI environ keys of header names seen (bounded: names are few)
_KEYS: dict[str, str] = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_BASE = {
    "SCRIPT_NAME": "",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.errors": sys.stderr,
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
}
_EMPTY = b""


@dataclass(frozen=True)
class FrontLimits:
    """What the front refuses before the application runs."""

    max_body: int = 114688
    body_timeout: float = 30.0
    max_url_length: int = 16384
    max_header_line: int = 16384


class _Refusal:
    """A WSGI app answering one error document (behind :class:`RequestId`)."""

    def __init__(self, error: errors.ApiError) -> None:
        self.body = orjson.dumps(error.body())
        self.status = f"{error.status} {HTTPStatus(error.status).phrase}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            self.status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(self.body)))],
        )
        return [self.body]


class _Started:
    """``start_response`` that keeps the status code and headers."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = int(status[:3])
        self.headers = headers


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> Answer:
    """Run ``app`` once; its status, headers and whole body."""
    started = _Started()
    result = app(environ, started)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started.status, started.headers, body


class Bridge:
    """An RSGI application (granian) serving the WSGI ``app``."""

    def __init__(self, app: WSGIApp, limits: FrontLimits, threads: int = 1) -> None:
        self.app = app
        self.limits = limits
        self.pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="vpnaas-request")
            if threads > 1
            else None
        )
        #: with one request thread, the loop and granian's blocking thread
        #: take turns running the application
        self.turn = threading.Lock()

    def __rsgi_init__(self, loop: Any) -> None:
        return None

    def __rsgi_del__(self, loop: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        environ, refusal = self._environ(scope)
        if refusal is None and _has_body(environ):
            refusal = await self._take_body(environ, proto)
        app = self.app if refusal is None else RequestId(_Refusal(refusal))
        if self.pool is None or refusal is not None:
            with self.turn:
                status, headers, data = call_wsgi(app, environ)
        else:
            loop = asyncio.get_running_loop()
            status, headers, data = await loop.run_in_executor(self.pool, call_wsgi, app, environ)
        proto.response_bytes(status, headers, data)

    __call__ = __rsgi__

    def answer_now(self, scope: Any, proto: Any, failed: Callable[[BaseException], None]) -> bool:
        """Take a request without a body from the thread granian hands it
        to: answer it there if the application runs on one thread, else
        hand it straight to a request thread, which answers it (``failed``
        gets what the application raised); whether it was taken (else the
        request goes to :meth:`__rsgi__` on the loop, which awaits its body)."""
        headers = scope.headers
        if "transfer-encoding" in headers or headers.get("content-length", "0") != "0":
            return False
        environ, refusal = self._environ(scope)
        app = self.app if refusal is None else RequestId(_Refusal(refusal))
        if self.pool is not None:
            self.pool.submit(_respond, app, environ, proto, failed)
            return True
        with self.turn:
            status, answer_headers, data = call_wsgi(app, environ)
        proto.response_bytes(status, answer_headers, data)
        return True

    def _environ(self, scope: Any) -> tuple[dict[str, Any], errors.ApiError | None]:
        """The WSGI environ of ``scope`` (PEP 3333), and any limit it breaks."""
        path: str = scope.path
        query: str = scope.query_string
        server_host, _, server_port = scope.server.rpartition(":")
        environ = {
            **_BASE,
            "REQUEST_METHOD": scope.method,
            # WSGI strings carry the raw bytes as latin-1 (PEP 3333)
            "PATH_INFO": path.encode("utf-8").decode("latin-1") if not path.isascii() else path,
            "QUERY_STRING": query,
            "SERVER_NAME": server_host,
            "SERVER_PORT": server_port,
            "REMOTE_ADDR": scope.client.rpartition(":")[0],
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(_EMPTY),
        }
        refusal: errors.ApiError | None = None
        if len(path) + len(query) + 1 > self.limits.max_url_length:
            refusal = errors.HTTPRequestURITooLong(limit=self.limits.max_url_length)
        line = self.limits.max_header_line
        for name, value in scope.headers.items():
            if len(name) + len(value) + 2 > line and refusal is None:
                refusal = errors.HTTPRequestHeaderFieldsTooLarge(name=name, limit=line)
            key = _KEYS.get(name) or _key(name)
            if key in environ and key.startswith("HTTP_"):
                value = f"{environ[key]},{value}"
            environ[key] = value
        return environ, refusal

    async def _take_body(self, environ: dict[str, Any], proto: Any) -> errors.ApiError | None:
        """Put the whole body in ``environ``, or say why there is none: it
        did not arrive in time, or the client stopped short of its
        ``Content-Length`` (an incomplete request is never run)."""
        body = await self._read(proto)
        if body is None:
            return errors.HTTPRequestTimeout(seconds=f"{self.limits.body_timeout:g}")
        declared = environ.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and len(body) < min(int(declared), self.limits.max_body):
            return errors.HTTPBadRequest(msg="The request body ended before its Content-Length.")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return None

    async def _read(self, proto: Any) -> bytes | None:
        """The body, cut one byte past the size limit (the application then
        refuses it); ``None`` when it did not arrive in time."""
        enough = self.limits.max_body + 1
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                async for chunk in proto:
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= enough:
                        break
        except TimeoutError:
            return None
        return b"".join(chunks)


def _respond(
    app: WSGIApp,
    environ: dict[str, Any],
    proto: Any,
    failed: Callable[[BaseException], None],
) -> None:
    """Run ``app`` for a request on a request thread and answer it there."""
    try:
        answer = call_wsgi(app, environ)
    except Exception as exc:  # noqa: BLE001 - granian answers it; the pool would drop it unseen
        failed(exc)
        return
    proto.response_bytes(*answer)


def answer_bodyless_first(bridge: Bridge) -> bool:
    """Have this granian worker offer each request to
    :meth:`Bridge.answer_now` on the blocking thread that receives it,
    before handing it to the event loop; whether it could.

    granian's RSGI interface runs every request on the worker's event loop,
    reached from a blocking thread whose only work is to schedule it there:
    one thread more than its WSGI interface crosses, which cost about half
    of the small list's rate at one connection (docs/decisions.md,
    "Serving"). granian has no option for this: the scheduler it builds for
    the worker (``granian.server.mp._new_cbscheduler``, granian 2) is
    replaced by one that offers each request to the bridge first; where
    granian's internals differ it is left alone. Call it from the worker's
    application factory, which granian runs before it builds the scheduler."""
    try:
        from granian import _futures
        from granian._granian import CallbackScheduler
        from granian.server import mp
    except ImportError:
        return False
    on_loop_schedule: Any = getattr(_futures, "_cbsched_aioschedule", None)
    if on_loop_schedule is None or not hasattr(mp, "_new_cbscheduler"):
        return False

    class Scheduler(CallbackScheduler):
        def __init__(self, loop: Any, callback: Any, *task: Any) -> None:
            super().__init__()
            on_loop = on_loop_schedule(loop, self._ctx, callback)
            context = self._ctx

            def schedule(watcher: Any) -> None:
                try:
                    if context.copy().run(
                        bridge.answer_now, watcher.scope, watcher.proto, watcher.err
                    ):
                        return
                except Exception as exc:  # noqa: BLE001 - granian would drop it unseen
                    watcher.err(exc)
                    return
                on_loop(watcher)

            self._schedule_fn = schedule

    granian_scheduler = mp._new_cbscheduler

    def new_scheduler(loop: Any, callback: Any, impl_asyncio: bool = False) -> Any:
        if not impl_asyncio:  # granian's own task implementation: not hooked
            return granian_scheduler(loop, callback, impl_asyncio=impl_asyncio)
        # the last three are for granian's own task implementation only
        return Scheduler(loop, callback, None, None, None)

    mp._new_cbscheduler = new_scheduler
    return True


def _key(name: str) -> str:
    key = "HTTP_" + name.upper().replace("-", "_")
    if len(_KEYS) < 512:
        _KEYS[name] = key
    return key


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH")
    return "HTTP_TRANSFER_ENCODING" in environ or (length is not None and length != "0")
