"""WSGI entry points for servers: ``vpnaas.wsgi:application`` (the API) and
``vpnaas.wsgi:agent_application`` (the agent API, on a listener of its own)
read the config files named by ``VPNAAS_CONFIG_FILE``;
``vpnaas.wsgi:metrics_application`` serves ``/metrics`` for the processes
sharing ``PROMETHEUS_MULTIPROC_DIR``; ``bridge_from_environment``,
``agent_from_environment`` and ``metrics_from_environment`` are what
``vpnaas serve`` hands to its granian servers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vpnaas.api.bridge import Bridge, FrontLimits, answer_bodyless_first
from vpnaas.app import AgentApplication, Application, create_agent_app, create_app
from vpnaas.auth import WSGIApp
from vpnaas.db.rekey import check_configured
from vpnaas.metrics.listener import metrics_app
from vpnaas.settings import Settings, load

__all__ = [
    "agent_from_environment",
    "bridge_from_environment",
    "from_environment",
    "make_agent_application",
    "make_application",
    "make_metrics_application",
    "metrics_from_environment",
]


def _served_settings() -> Settings:
    spec: dict[str, Any] = json.loads(os.environ.get("VPNAAS_SERVE", "{}"))
    return load(spec.get("config_files", []), **spec.get("overrides", {}))


def from_environment() -> Application:
    """The WSGI app ``vpnaas serve`` described in ``VPNAAS_SERVE``."""
    return create_app(_served_settings())


def bridge_from_environment() -> Bridge:
    """What ``vpnaas serve``'s granian workers run: the app of
    :func:`from_environment` behind the RSGI front (:mod:`vpnaas.api.bridge`),
    which answers requests without a body before they reach the loop."""
    settings = _served_settings()
    bridge = Bridge(create_app(settings), front_limits(settings), settings.request_threads)
    answer_bodyless_first(bridge)
    return bridge


def agent_from_environment() -> AgentApplication:
    """The agent API ``vpnaas serve`` described in ``VPNAAS_SERVE``; its long
    polls end once the server's stop marker appears."""
    app = create_agent_app(_served_settings())
    marker = json.loads(os.environ.get("VPNAAS_SERVE", "{}")).get("stop_marker")
    app.api.watcher.stop_marker = Path(marker) if marker else None
    return app


def metrics_from_environment() -> WSGIApp:
    """The metrics listener ``vpnaas serve`` described in ``VPNAAS_SERVE``."""
    app: WSGIApp = metrics_app(_served_settings())
    return app


def front_limits(settings: Settings) -> FrontLimits:
    return FrontLimits(
        max_body=settings.max_body_size,
        body_timeout=settings.body_timeout,
        max_url_length=settings.max_url_length,
        max_header_line=settings.max_header_line,
    )


def _config_files() -> list[str]:
    return [f for f in os.environ.get("VPNAAS_CONFIG_FILE", "").split(",") if f]


def make_application() -> Application:
    """The app for any WSGI server (uWSGI, gunicorn, mod_wsgi); refuses
    (``SecretKeyError``) keys that do not open the stored secrets."""
    settings = load(_config_files())
    check_configured(settings)
    return create_app(settings)


def make_agent_application() -> AgentApplication:
    """The agent API for any WSGI server, on a listener of its own."""
    return create_agent_app(load(_config_files()))


def make_metrics_application() -> WSGIApp:
    """``/metrics`` for any WSGI server, on a listener of its own, beside
    API workers that share its ``PROMETHEUS_MULTIPROC_DIR``."""
    app: WSGIApp = metrics_app(load(_config_files()))
    return app


class _Lazy:
    """Built on the first request, so importing this module does no I/O."""

    def __init__(self, make: Callable[[], WSGIApp]) -> None:
        self._make = make
        self._app: WSGIApp | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._make()
        return self._app(environ, start_response)


application = _Lazy(make_application)
agent_application = _Lazy(make_agent_application)
metrics_application = _Lazy(make_metrics_application)
