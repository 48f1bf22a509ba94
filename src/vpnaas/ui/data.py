"""The console's view of the API: every read and write goes through the same
:class:`~vpnaas.api.controller.Controller` as the JSON API, as the caller the
session names, so policy, validation and caches are the API's own."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import falcon
import orjson

from vpnaas.api.controller import Controller
from vpnaas.api.query import parse_params
from vpnaas.auth import implied_roles
from vpnaas.context import RequestContext
from vpnaas.db.engine import retrying
from vpnaas.db.tunnels import status_notes
from vpnaas.spec import Resource
from vpnaas.ui.sessions import Session

__all__ = ["CONNECTION", "TABS", "Caller", "Tab", "list_query", "tab_of"]

CONNECTION = "ipsec_site_connection"
#: what the connection list passes on to the API from its own URL
LIST_PARAMS = ("name", "status", "sort_key", "sort_dir", "limit", "marker", "page_reverse")
PAGE_SIZE = "20"


@dataclass(frozen=True)
class Tab:
    """One tab of the console: its URL slug, resource and title."""

    slug: str
    member: str
    title: str
    singular: str


TABS = (
    Tab("connections", CONNECTION, "Connections", "connection"),
    Tab("vpnservices", "vpnservice", "VPN services", "VPN service"),
    Tab("endpoint-groups", "endpoint_group", "Endpoint groups", "endpoint group"),
    Tab("ikepolicies", "ikepolicy", "IKE policies", "IKE policy"),
    Tab("ipsecpolicies", "ipsecpolicy", "IPsec policies", "IPsec policy"),
)
_BY_MEMBER = {t.member: t for t in TABS}

#: which connection attribute points at each resource a connection uses
USED_BY = {
    "vpnservice": ("vpnservice_id",),
    "ikepolicy": ("ikepolicy_id",),
    "ipsecpolicy": ("ipsecpolicy_id",),
    "endpoint_group": ("local_ep_group_id", "peer_ep_group_id"),
}


def tab_of(member: str) -> Tab:
    return _BY_MEMBER[member]


def list_query(req: falcon.Request) -> list[tuple[str, str]]:
    """The connection list's filter, sort and page, from the console URL."""
    pairs = [(k, v) for k, v in req.params.items() if k in LIST_PARAMS and isinstance(v, str) and v]
    if not any(k == "limit" for k, _ in pairs):
        pairs.append(("limit", PAGE_SIZE))
    if any(k == "sort_key" for k, _ in pairs) and not any(k == "sort_dir" for k, _ in pairs):
        pairs.append(("sort_dir", "asc"))
    return pairs


def context_of(session: Session, controller: Controller) -> RequestContext:
    """The request context a session stands for (as the API's auth builds it)."""
    login = session.login
    ctx = RequestContext(
        project_id=login.project_id,
        user_id=login.user_id,
        roles=implied_roles(login.roles),
    )
    if controller.authz.is_admin(ctx):
        ctx = dataclasses.replace(ctx, is_admin=True)
    return ctx


class Caller:
    """The API as one logged-in user sees it."""

    def __init__(self, controller: Controller, ctx: RequestContext) -> None:
        self.controller = controller
        self.ctx = ctx

    def res(self, member: str) -> Resource:
        return self.controller.catalog[member]

    def index_bytes(self, member: str, pairs: Sequence[tuple[str, str]], base: str) -> bytes:
        params = parse_params(urlencode(list(pairs)))
        return self.controller.index(self.ctx, self.res(member), params, base)

    def page(
        self, member: str, pairs: Sequence[tuple[str, str]] = (), base: str = ""
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """The items of a list request and its paging links."""
        res = self.res(member)
        doc = orjson.loads(self.index_bytes(member, pairs, base))
        return doc[res.collection], doc.get(f"{res.collection}_links", [])

    def items(self, member: str) -> list[dict[str, Any]]:
        return self.page(member)[0]

    def status_notes(self, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """``(last_status_change, status_reason)`` of connections ``ids``
        (ones the caller's list showed), in one read."""
        with self.controller.reading(self.ctx) as env:
            schema = env.repo.schema
            return status_notes(env.repo.conn, schema.table(CONNECTION), schema.tunnels, ids)

    def get(self, member: str, obj_id: str) -> dict[str, Any]:
        shown = self.controller.show(self.ctx, self.res(member), obj_id, parse_params(""))
        obj: dict[str, Any] = orjson.loads(shown)[member]
        return obj

    def create(self, member: str, values: dict[str, Any]) -> dict[str, Any]:
        res = self.res(member)
        doc = retrying(lambda: self.controller.create(self.ctx, res, {member: values}))
        created: dict[str, Any] = doc[member]
        return created

    def update(self, member: str, obj_id: str, values: dict[str, Any]) -> dict[str, Any]:
        res = self.res(member)
        doc = retrying(lambda: self.controller.update(self.ctx, res, obj_id, {member: values}))
        updated: dict[str, Any] = doc[member]
        return updated

    def delete(self, member: str, obj_id: str) -> None:
        res = self.res(member)
        retrying(lambda: self.controller.delete(self.ctx, res, obj_id))

    def can(self, action: str, member: str, obj: dict[str, Any] | None = None) -> bool:
        """Whether the policy engine lets the caller ``action`` (create,
        update, delete) ``obj`` (a new object of its own project if ``None``)."""
        res = self.res(member)
        target = self.controller.policy_target(
            res, obj if obj is not None else {"project_id": self.ctx.project_id}
        )
        return self.controller.authz.allowed(self.ctx, f"{action}_{member}", target)

    def allowed(self, rule: str, member: str, obj: dict[str, Any]) -> bool:
        """Whether the policy rule ``rule`` passes for ``obj`` of ``member``."""
        target = self.controller.policy_target(self.res(member), obj)
        return self.controller.authz.allowed(self.ctx, rule, target)

    def users(
        self, member: str, obj_id: str, connections: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The connections (of ``connections``) that use object ``obj_id``."""
        keys = USED_BY.get(member, ())
        return [c for c in connections if any(c.get(k) == obj_id for k in keys)]
