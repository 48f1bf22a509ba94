"""The web console under ``/ui/``: server-rendered pages over the API's own
controller, policy and validation.

:func:`create_console` builds a Falcon application of its own, mounted
beside the JSON API by :func:`vpnaas.app.create_app`. It authenticates with
its own sessions (:mod:`vpnaas.ui.sessions`; the JSON API never reads the
cookie) and guards every request (:mod:`vpnaas.ui.security`). Templates are
Jinja2 with autoescaping; htmx, vendored once (``static/VENDORED.txt``), only
improves pages that work without JavaScript.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon

from vpnaas import errors
from vpnaas.api.controller import Controller
from vpnaas.auth import WSGIApp
from vpnaas.settings import Settings
from vpnaas.ui import forms, pages
from vpnaas.ui.console import Console
from vpnaas.ui.security import Guard
from vpnaas.ui.sessions import SessionStore
from vpnaas.ui.views import Views

__all__ = ["create_console"]

LOG = logging.getLogger(__name__)


def create_console(
    controller: Controller, settings: Settings, api: WSGIApp, keystone_url: str | None
) -> WSGIApp:
    """The console application (``api``: the JSON API inside authentication,
    asked in process for what the controller does not serve)."""
    sessions = SessionStore(controller.db, controller.schema.sessions)
    console = Console(
        controller=controller,
        sessions=sessions,
        views=Views(),
        options=settings.console,
        auth_strategy=settings.auth_strategy,
        driver=settings.driver,
        api=api,
        keystone_url=keystone_url,
    )
    app = falcon.App(middleware=[Guard(sessions)])
    app.req_options.strip_url_path_trailing_slash = False
    for path, resource in pages.ROUTES:
        app.add_route(path, resource(console))
    app.add_route("/ui/connections/new", forms.ConnectionNew(console))
    app.add_route("/ui/connections/{obj_id}/edit", forms.ConnectionEdit(console))

    def handle(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
        if not isinstance(exc, errors.ApiError):
            LOG.exception("unexpected error serving %s %s", req.method, req.path)
            exc = errors.HTTPInternalServerError()
        console.page(req, resp, "error.html", exc.status, error=exc)

    app.add_error_handler(errors.ApiError, handle)
    app.add_error_handler(Exception, handle)
    app.add_error_handler(
        falcon.HTTPNotFound,
        lambda req, resp, exc, params: handle(req, resp, errors.HTTPNotFound(), params),
    )
    return app
