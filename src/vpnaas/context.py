"""The request context: who is calling, built once per request by ``auth``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from oslo_context import context as oslo_context

__all__ = ["ADMIN_ROLE", "SERVICE_ROLE", "RequestContext", "get_context"]

ADMIN_ROLE = "admin"
SERVICE_ROLE = "service"
ENVIRON_KEY = "vpnaas.context"


@dataclass(frozen=True)
class RequestContext:
    """The caller of one request.

    Attributes:
        project_id: the token's project (``None``: no project, e.g. the
            embedded default's admin without an ``X-Project-Id`` header).
        user_id: the token's user.
        roles: role names, implied roles included.
        is_admin: the ``context_is_admin`` policy rule passes.
        system_scope: ``"all"`` for a system-scoped token.
        request_id: the local request id (``req-<uuid>``).
    """

    project_id: str | None
    user_id: str | None = None
    roles: frozenset[str] = frozenset()
    is_admin: bool = False
    system_scope: str | None = None
    domain_id: str | None = None
    request_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def identity(self) -> tuple[Any, ...]:
        """Everything about the caller a policy rule can read (what oslo.policy's
        credentials are made of): what cached answers are kept apart by."""
        return (
            self.user_id,
            self.project_id,
            self.domain_id,
            self.roles,
            self.system_scope,
            self.is_admin,
        )

    @property
    def is_service(self) -> bool:
        return SERVICE_ROLE in self.roles

    @property
    def unscoped(self) -> bool:
        """Reads are not limited to the caller's project (admin or service)."""
        return self.is_admin or self.is_service

    @cached_property
    def oslo(self) -> oslo_context.RequestContext:
        """The oslo.context view oslo.policy enforces against (scope included)."""
        return oslo_context.RequestContext(
            user_id=self.user_id,
            project_id=self.project_id,
            domain_id=self.domain_id,
            roles=sorted(self.roles),
            system_scope=self.system_scope,
            is_admin=self.is_admin,
            request_id=self.request_id or None,
        )


def get_context(environ: dict[str, Any]) -> RequestContext:
    """The context the auth middleware stored for this request."""
    ctx = environ[ENVIRON_KEY]
    assert isinstance(ctx, RequestContext)
    return ctx


def set_context(environ: dict[str, Any], ctx: RequestContext) -> None:
    environ[ENVIRON_KEY] = ctx
