"""What every console page shares: the caller of a request, and rendering a
page with the session's banner, tabs and CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon

from vpnaas.api.controller import Controller
from vpnaas.auth import WSGIApp
from vpnaas.settings import ConsoleOptions
from vpnaas.ui.data import TABS, Caller, context_of
from vpnaas.ui.sessions import Session, SessionStore
from vpnaas.ui.views import Views

__all__ = ["Console"]

#: fixed notices a redirect may ask for (``?done=``): never text from the URL
NOTICES = {
    "created": "Created.",
    "updated": "Saved.",
    "deleted": "Deleted.",
}


@dataclass
class Console:
    """The console's collaborators, shared by its pages."""

    controller: Controller
    sessions: SessionStore
    views: Views
    options: ConsoleOptions
    auth_strategy: str
    driver: str
    api: WSGIApp
    keystone_url: str | None = None

    def session(self, req: falcon.Request) -> Session:
        session = req.context.session
        assert isinstance(session, Session)  # the guard let only logged-in requests here
        return session

    def caller(self, req: falcon.Request) -> Caller:
        cached = getattr(req.context, "caller", None)
        if isinstance(cached, Caller):
            return cached
        caller = Caller(self.controller, context_of(self.session(req), self.controller))
        req.context.caller = caller
        return caller

    def page(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        template: str,
        status: int = 200,
        **values: Any,
    ) -> None:
        session: Session | None = req.context.session
        caller = self.caller(req) if session is not None else None
        self.views.send(
            resp,
            template,
            status,
            session=session,
            caller=caller,
            csrf_token=session.csrf_token if session else "",
            noauth=self.auth_strategy == "noauth",
            tabs=TABS,
            notice=NOTICES.get(req.get_param("done") or ""),
            driver=self.driver,
            **values,
        )
