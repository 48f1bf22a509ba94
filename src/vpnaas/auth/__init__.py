"""Who is calling: the ``noauth`` and ``keystone`` strategies.

Both end in the same place: a :class:`~vpnaas.context.RequestContext` stored
in the WSGI environ, built from the identity headers (``X-Project-Id``,
``X-User-Id``, ``X-Roles``, ``OpenStack-System-Scope``). In ``noauth`` mode
the client sets them itself; in ``keystone`` mode keystonemiddleware's
``auth_token`` sets them from a validated token and strips any the client
sent. The version document at ``/`` needs no authentication.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from vpnaas.context import RequestContext, set_context
from vpnaas.policy import Authorizer

__all__ = ["IDENTITY_HEADERS", "KeystoneContext", "NoAuth", "OpenPaths", "WSGIApp", "implied_roles"]

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Keystone's default role hierarchy: admin ⇒ member ⇒ reader, manager ⇒ member
IMPLIED = {"admin": ("member", "reader"), "manager": ("member", "reader"), "member": ("reader",)}


def implied_roles(roles: Iterable[str]) -> frozenset[str]:
    """``roles`` plus the roles they imply (lower-cased, as Keystone matches)."""
    found = {r.strip().lower() for r in roles if r.strip()}
    for role in list(found):
        found.update(IMPLIED.get(role, ()))
    return frozenset(found)


@functools.lru_cache(maxsize=1024)
def _roles_header(value: str) -> frozenset[str]:
    """The roles an ``X-Roles`` value grants (callers repeat the same few)."""
    return implied_roles(value.split(","))


def _header(environ: dict[str, Any], key: str) -> str | None:
    """The stripped, non-empty value of the environ ``key`` (``HTTP_…``)."""
    value = environ.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


class _ContextMiddleware:
    """Put the caller's :class:`RequestContext` in the environ, then call on;
    ``is_admin`` is the ``context_is_admin`` policy rule."""

    def __init__(self, app: WSGIApp, authorizer: Authorizer) -> None:
        self.app = app
        self.authorizer = authorizer

    def identity(self, environ: dict[str, Any]) -> RequestContext:
        raise NotImplementedError

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        ctx = self.identity(environ)
        if self.authorizer.is_admin(ctx):
            ctx = dataclasses.replace(ctx, is_admin=True)
        set_context(environ, ctx)
        return self.app(environ, start_response)


#: the headers a noauth caller states its identity with
IDENTITY_HEADERS = (
    "HTTP_X_PROJECT_ID",
    "HTTP_X_USER_ID",
    "HTTP_X_ROLES",
    "HTTP_OPENSTACK_SYSTEM_SCOPE",
)


class NoAuth(_ContextMiddleware):
    """Trust the identity headers: the embedded default, and tests.

    A request with none of :data:`IDENTITY_HEADERS` (the ``openstack`` CLI,
    curl) acts in ``default_project`` with the admin role. Once any identity
    header is sent, the headers alone decide: no (or an empty)
    ``X-Project-Id`` is an admin without a project (as Neutron's ``noauth``),
    and a project without ``X-Roles`` is a member.
    """

    def __init__(
        self, app: WSGIApp, authorizer: Authorizer, default_project: str | None = None
    ) -> None:
        super().__init__(app, authorizer)
        self.default_project = default_project

    def identity(self, environ: dict[str, Any]) -> RequestContext:
        request_id = environ.get("openstack.request_id", "")
        if self.default_project and not any(k in environ for k in IDENTITY_HEADERS):
            return RequestContext(
                project_id=self.default_project,
                roles=_roles_header("admin"),
                request_id=request_id,
            )
        project = _header(environ, "HTTP_X_PROJECT_ID")
        default_role = "admin" if project is None else "member"
        return RequestContext(
            project_id=project,
            user_id=_header(environ, "HTTP_X_USER_ID"),
            roles=_roles_header(_header(environ, "HTTP_X_ROLES") or default_role),
            system_scope=_header(environ, "HTTP_OPENSTACK_SYSTEM_SCOPE"),
            request_id=request_id,
        )


class KeystoneContext(_ContextMiddleware):
    """Build the context from the headers keystonemiddleware has set (it
    strips any the client sent)."""

    def identity(self, environ: dict[str, Any]) -> RequestContext:
        return RequestContext(
            project_id=_header(environ, "HTTP_X_PROJECT_ID"),
            user_id=_header(environ, "HTTP_X_USER_ID"),
            roles=_roles_header(_header(environ, "HTTP_X_ROLES") or ""),
            system_scope=_header(environ, "HTTP_OPENSTACK_SYSTEM_SCOPE"),
            domain_id=_header(environ, "HTTP_X_DOMAIN_ID"),
            request_id=environ.get("openstack.request_id", ""),
        )


class OpenPaths:
    """Send the listed paths around authentication (the version document)."""

    def __init__(self, protected: WSGIApp, open_app: WSGIApp, paths: Iterable[str]) -> None:
        self.protected = protected
        self.open_app = open_app
        self.paths = frozenset(paths)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in self.paths:
            return self.open_app(environ, start_response)
        return self.protected(environ, start_response)
