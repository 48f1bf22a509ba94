"""WSGI entry points for servers: ``vpnaas.wsgi:application`` reads the config
file named by ``VPNAAS_CONFIG_FILE``; ``from_environment`` is what
``vpnaas serve`` hands to its granian workers."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from vpnaas.app import Application, create_app
from vpnaas.db.rekey import check_configured
from vpnaas.settings import load

__all__ = ["from_environment", "make_application"]


def from_environment() -> Application:
    """The app ``vpnaas serve`` described in ``VPNAAS_SERVE``."""
    spec: dict[str, Any] = json.loads(os.environ.get("VPNAAS_SERVE", "{}"))
    return create_app(load(spec.get("config_files", []), **spec.get("overrides", {})))


def make_application() -> Application:
    """The app for any WSGI server (uWSGI, gunicorn, mod_wsgi); refuses
    (``SecretKeyError``) keys that do not open the stored secrets."""
    files = [f for f in os.environ.get("VPNAAS_CONFIG_FILE", "").split(",") if f]
    settings = load(files)
    check_configured(settings)
    return create_app(settings)


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
