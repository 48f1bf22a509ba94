"""Who is calling: the ``noauth`` and ``keystone`` strategies.

Both end in the same place: a :class:`~vpnaas.context.RequestContext` stored
in the WSGI environ, built from the identity headers (``X-Project-Id``,
``X-User-Id``, ``X-Roles``, ``OpenStack-System-Scope``). In ``noauth`` mode
the client sets them itself; in ``keystone`` mode keystonemiddleware's
``auth_token`` sets them from a validated token and strips any the client
sent. The version document at ``/`` needs no authentication.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from vpnaas.context import RequestContext, set_context
from vpnaas.policy import Authorizer

__all__ = ["KeystoneContext", "NoAuth", "OpenPaths", "WSGIApp", "implied_roles"]

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


def _header(environ: dict[str, Any], name: str) -> str | None:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return value.strip() if isinstance(value, str) and value.strip() else None


class NoAuth:
    """Trust the identity headers: the embedded default, and tests.

    No ``X-Project-Id`` means an admin without a project (as Neutron's
    ``noauth``); with a project and no ``X-Roles`` the caller is a member.
    """

    def __init__(self, app: WSGIApp, authorizer: Authorizer) -> None:
        self.app = app
        self.authorizer = authorizer

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        project = _header(environ, "X-Project-Id")
        roles_header = _header(environ, "X-Roles")
        if project is None:
            roles = implied_roles((roles_header or "admin").split(","))
        else:
            roles = implied_roles((roles_header or "member").split(","))
        ctx = RequestContext(
            project_id=project,
            user_id=_header(environ, "X-User-Id"),
            roles=roles,
            system_scope=_header(environ, "OpenStack-System-Scope"),
            request_id=environ.get("openstack.request_id", ""),
        )
        set_context(environ, _with_admin(ctx, self.authorizer))
        return self.app(environ, start_response)


class KeystoneContext:
    """Build the context from the headers keystonemiddleware has set."""

    def __init__(self, app: WSGIApp, authorizer: Authorizer) -> None:
        self.app = app
        self.authorizer = authorizer

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        roles = implied_roles((_header(environ, "X-Roles") or "").split(","))
        ctx = RequestContext(
            project_id=_header(environ, "X-Project-Id"),
            user_id=_header(environ, "X-User-Id"),
            roles=roles,
            system_scope=_header(environ, "OpenStack-System-Scope"),
            domain_id=_header(environ, "X-Domain-Id"),
            request_id=environ.get("openstack.request_id", ""),
        )
        set_context(environ, _with_admin(ctx, self.authorizer))
        return self.app(environ, start_response)


def _with_admin(ctx: RequestContext, authorizer: Authorizer) -> RequestContext:
    if not authorizer.is_admin(ctx):
        return ctx
    return RequestContext(
        project_id=ctx.project_id,
        user_id=ctx.user_id,
        roles=ctx.roles,
        is_admin=True,
        system_scope=ctx.system_scope,
        domain_id=ctx.domain_id,
        request_id=ctx.request_id,
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
