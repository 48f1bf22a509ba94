"""What every console request passes: its session, CSRF and Origin checks,
and the security headers of every answer.

* The session comes from the ``vpnaas_session`` cookie only (the JSON API
  never reads it). Without a live session every page but the login form and
  the static files sends the browser to ``/ui/login``.
* An unsafe request (POST) must come from this origin (``Origin``, else
  ``Referer``) and, once logged in, carry the session's CSRF token in the
  ``csrf_token`` form field; otherwise it is refused with 403 before any
  handler runs.
* Every answer carries a strict Content-Security-Policy (``default-src
  'self'``: no inline script or style, no other origin), and pages are
  never stored by caches.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import falcon

from vpnaas import errors
from vpnaas.ui.sessions import Session, SessionStore

__all__ = ["COOKIE", "Form", "Guard", "set_session_cookie"]

COOKIE = "vpnaas_session"
PREFIX = "/ui"
OPEN = ("/ui/login", "/ui/static/")
MAX_FORM = 64 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


class Form:
    """A urlencoded form body: every value of a name, in order."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        found = [v for k, v in self.pairs if k == name]
        return found[-1] if found else default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name and v]

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.pairs)


def _read_form(req: falcon.Request) -> Form:
    if not (req.content_type or "").startswith("application/x-www-form-urlencoded"):
        return Form([])
    raw = req.bounded_stream.read(MAX_FORM + 1)
    if len(raw) > MAX_FORM:
        raise errors.HTTPRequestEntityTooLarge()
    return Form(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _same_origin(req: falcon.Request) -> bool:
    here = f"{req.scheme}://{req.netloc}"
    origin = req.get_header("Origin")
    if origin is not None:
        return origin == here
    referer = req.get_header("Referer")
    if referer is not None:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == here
    return False


def session_id(req: falcon.Request) -> str | None:
    values = req.get_cookie_values(COOKIE)
    return values[0] if values else None


def set_session_cookie(
    resp: falcon.Response, value: str, *, max_age: int | None, secure: bool
) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, path ``/ui/``, Secure
    when configured; an empty ``value`` removes it."""
    resp.set_cookie(
        COOKIE,
        value,
        max_age=max(0, max_age or 0),
        path=PREFIX + "/",
        secure=secure,
        http_only=True,
        same_site="Strict",
    )


class Guard:
    """Falcon middleware: session, CSRF and Origin checks; security headers."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.form = _read_form(req) if req.method == "POST" else Form([])
        sid = session_id(req)
        session: Session | None = self.sessions.get(sid) if sid else None
        req.context.session = session
        req.context.session_id = sid if session else None
        if req.method not in ("GET", "HEAD"):
            self._check_unsafe(req, session)
        if session is None and not req.path.startswith(OPEN):
            raise falcon.HTTPSeeOther(f"{PREFIX}/login")

    @staticmethod
    def _check_unsafe(req: falcon.Request, session: Session | None) -> None:
        if not _same_origin(req):
            raise errors.PolicyNotAuthorized(action="a request from another site")
        if session is None:
            return
        sent = req.context.form.get("csrf_token")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise errors.PolicyNotAuthorized(action="a form without this session's token")

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header("Content-Security-Policy", CSP)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "same-origin")
        resp.set_header("X-Frame-Options", "DENY")
        if not req.path.startswith("/ui/static/") and resp.get_header("Cache-Control") is None:
            resp.set_header("Cache-Control", "no-store")
