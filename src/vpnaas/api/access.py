"""The access log line and the request metrics of each request, in one
middleware (:class:`Observe`).

One line per request, in the spirit of neutron-server's::

    [req-<uuid> <project>] 127.0.0.1 "GET /v2.0/vpn/ikepolicies?psk=*** HTTP/1.1"
    status: 200 len: 1234 time: 0.0012345

through the ``logging`` logger this middleware is given (``vpnaas.access``
for the API, ``vpnaas.access.agent`` for the agent API), at INFO. The value
of every secret attribute used as a filter (``?psk=``) is masked, whatever
the spelling of its name (``ps%6B``); ``-`` stands for what is unknown (no
project, no ``Content-Length``).

Metrics are labelled by the route template (``/v2.0/vpn/ikepolicies/{obj_id}``)
the application's router finds for the path, never by the path itself:
``unmatched`` when none does, the mount point for mounted applications.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import unquote_plus

from vpnaas.api.request_id import ENV_REQUEST_ID
from vpnaas.context import ENVIRON_KEY

__all__ = ["MASK", "Observe", "Recorder", "Router", "mask_query"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MASK = "***"
UNMATCHED = "unmatched"
#: methods that label metrics as themselves; any other is ``other``
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_FORMAT = '[%s %s] %s "%s %s %s" status: %s len: %s time: %.7f'


class Recorder(Protocol):
    """Records one request (:class:`vpnaas.metrics.requests.RequestMetrics`)."""

    def __call__(self, method: str, route: str, status: int, seconds: float) -> None: ...


class Router(Protocol):
    """Falcon's router: ``find(path)`` is ``None`` or ends with the template."""

    def find(self, uri: str) -> tuple[Any, ...] | None: ...


def mask_query(query: str, secrets: frozenset[str]) -> str:
    """``query`` with the value of every parameter named in ``secrets``
    replaced by :data:`MASK` (names compared once percent-decoded)."""
    parts = query.split("&")
    for i, part in enumerate(parts):
        name = part.partition("=")[0]
        if unquote_plus(name) in secrets:
            parts[i] = f"{name}={MASK}"
    return "&".join(parts)


class Observe:
    """Log and count every request ``app`` answers."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        log: logging.Logger | None,
        secrets: Iterable[str],
        router: Router,
        mounts: Sequence[str] = (),
        record: Recorder | None = None,
    ) -> None:
        self.app = app
        self.log = log
        self.secrets = frozenset(secrets)
        self.router = router
        self.mounts = tuple(mounts)
        self.record = record

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        answer: list[Any] = ["500", ()]

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[0] = status
            answer[1] = headers
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, respond)
        finally:  # an exception that escapes is answered 500 by the server
            self._observe(environ, answer, time.perf_counter() - started)

    def _observe(self, environ: dict[str, Any], answer: list[Any], seconds: float) -> None:
        status = int(answer[0][:3])
        if self.record is not None:
            method = environ["REQUEST_METHOD"]
            method = method if method in _METHODS else "other"
            self.record(method, self.route(environ.get("PATH_INFO", "")), status, seconds)
        if self.log is not None and self.log.isEnabledFor(logging.INFO):
            self._log(environ, status, answer[1], seconds)

    def route(self, path: str) -> str:
        """The route template of ``path``."""
        for mount in self.mounts:
            if path == mount or path.startswith(mount + "/"):
                return mount
        found = self.router.find(path)
        return str(found[-1]) if found is not None else UNMATCHED

    def _log(
        self,
        environ: dict[str, Any],
        status: int,
        headers: Iterable[tuple[str, str]],
        seconds: float,
    ) -> None:
        assert self.log is not None
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "")
        if query:
            target = f"{target}?{mask_query(query, self.secrets)}"
        length = next((v for k, v in headers if k.lower() == "content-length"), "-")
        ctx = environ.get(ENVIRON_KEY)
        project = getattr(ctx, "project_id", None) or "-"
        args = (
            environ.get(ENV_REQUEST_ID, "-"),
            project,
            environ.get("REMOTE_ADDR", "-"),
            environ["REQUEST_METHOD"],
            target,
            environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            status,
            length,
            seconds,
        )
        # makeRecord + handle: what info() does, without looking for the
        # caller's frame (a fifth of the line; it is always here)
        self.log.handle(
            self.log.makeRecord(self.log.name, logging.INFO, __file__, 0, _FORMAT, args, None)
        )
