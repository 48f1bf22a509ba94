"""WSGI entry points for servers: ``vpnaas.wsgi:application`` reads the config
file named by ``VPNAAS_CONFIG_FILE``; ``from_environment`` is what
``vpnaas serve`` hands to its granian workers."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from vpnaas.api.bridge import Bridge, FrontLimits
from vpnaas.app import Application, create_app
from vpnaas.settings import Settings, load

__all__ = ["bridge_from_environment", "from_environment", "make_application"]


def _served_settings() -> Settings:
    spec: dict[str, Any] = json.loads(os.environ.get("VPNAAS_SERVE", "{}"))
    return load(spec.get("config_files", []), **spec.get("overrides", {}))


def from_environment() -> Application:
    """The WSGI app ``vpnaas serve`` described in ``VPNAAS_SERVE``."""
    return create_app(_served_settings())


def bridge_from_environment() -> Bridge:
    """What ``vpnaas serve``'s granian workers run: the app of
    :func:`from_environment` behind the RSGI front (:mod:`vpnaas.api.bridge`)."""
    settings = _served_settings()
    return Bridge(create_app(settings), front_limits(settings), settings.request_threads)


def front_limits(settings: Settings) -> FrontLimits:
    return FrontLimits(
        max_body=settings.max_body_size,
        body_timeout=settings.body_timeout,
        max_url_length=settings.max_url_length,
        max_header_line=settings.max_header_line,
    )


def make_application() -> Application:
    """The app for any WSGI server (uWSGI, gunicorn, mod_wsgi)."""
    files = [f for f in os.environ.get("VPNAAS_CONFIG_FILE", "").split(",") if f]
    return create_app(load(files))


class _Lazy:
    """Built on the first request, so importing this module does no I/O."""

    def __init__(self) -> None:
        self._app: Application | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = make_application()
        return self._app(environ, start_response)


application = _Lazy()
