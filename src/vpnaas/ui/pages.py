"""Console pages that read and delete: the tabs' lists, the details, the
live status fragment, deletion with confirmation, login and logout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import falcon

from vpnaas import errors
from vpnaas.api import http
from vpnaas.spec.vpn import PEER_CONFIG_FORMATS, PSK_EXPORT_RULE, STATUSES
from vpnaas.ui import login as logins
from vpnaas.ui.console import Console
from vpnaas.ui.data import CONNECTION, TABS, Caller, Tab, list_query, tab_of
from vpnaas.ui.security import set_session_cookie
from vpnaas.ui.status import ConnectionStatus, status_notes
from vpnaas.ui.tunnel import peer_config_of, tunnel_of

__all__ = ["ROUTES", "STATIC", "redirect"]

STATIC = Path(__file__).parent / "static"

_TABS = {t.slug: t for t in TABS}
#: the attributes each tab's list shows after the name
COLUMNS = {
    "vpnservice": ("router_id", "external_v4_ip", "admin_state_up", "status"),
    "endpoint_group": ("type", "endpoints"),
    "ikepolicy": ("ike_version", "encryption_algorithm", "auth_algorithm", "pfs", "lifetime"),
    "ipsecpolicy": (
        "transform_protocol",
        "encapsulation_mode",
        "encryption_algorithm",
        "auth_algorithm",
        "pfs",
        "lifetime",
    ),
}


def _tab(slug: str) -> Tab:
    tab = _TABS.get(slug)
    if tab is None:
        raise errors.HTTPNotFound()
    return tab


def redirect(resp: falcon.Response, location: str) -> None:
    """303 See Other: after a form, the browser GETs ``location``."""
    resp.status = 303
    resp.location = location


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in items}


def related(caller: Caller) -> dict[str, dict[str, dict[str, Any]]]:
    """Everything a connection row names, by id."""
    return {
        "vpnservice": by_id(caller.items("vpnservice")),
        "ikepolicy": by_id(caller.items("ikepolicy")),
        "ipsecpolicy": by_id(caller.items("ipsecpolicy")),
        "endpoint_group": by_id(caller.items("endpoint_group")),
        "router": by_id(caller.items("router")),
        "subnet": by_id(caller.items("subnet")),
    }


class Static:
    """``/ui/static/<name>``: the console's own files (htmx, script, style),
    tagged so a browser revalidates them cheaply."""

    TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

    def __init__(self, console: Console) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for path in STATIC.iterdir():
            if path.suffix in self.TYPES:
                data = path.read_bytes()
                self.files[path.name] = (data, self.TYPES[path.suffix], http.etag(data))

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = self.files.get(name)
        if found is None:
            raise errors.HTTPNotFound()
        data, content_type, tag = found
        resp.set_header("ETag", tag)
        resp.set_header("Cache-Control", "no-cache")
        if http.matches(req.get_header("If-None-Match"), tag):
            resp.status = 304
            return
        resp.content_type = content_type
        resp.data = data


class Root:
    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        redirect(resp, "/ui/connections")


class Login:
    """``/ui/login``: the form of the server's auth mode, and the login itself."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.console.page(req, resp, "login.html", error=None, form={})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        c, form = self.console, req.context.form
        try:
            if c.auth_strategy == "keystone":
                if not c.keystone_url:
                    raise logins.LoginFailed("No Keystone URL is configured for the console.")
                login = logins.keystone_login(
                    c.options,
                    c.keystone_url,
                    form.get("username"),
                    form.get("password"),
                    form.get("project"),
                )
            else:
                login = logins.noauth_login(
                    c.options, form.get("project"), form.get("roles"), form.get("username")
                )
        except logins.LoginFailed as exc:
            values = {k: form.get(k) for k in ("username", "project", "roles")}
            c.page(req, resp, "login.html", 401, error=str(exc), form=values)
            return
        session_id, _ = c.sessions.create(login)
        lifetime = int((login.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
        set_session_cookie(resp, session_id, max_age=lifetime, secure=c.options.secure_cookies)
        redirect(resp, "/ui/connections")


class Logout:
    def __init__(self, console: Console) -> None:
        self.console = console

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.context.session_id:
            self.console.sessions.delete(req.context.session_id)
        set_session_cookie(resp, "", max_age=0, secure=self.console.options.secure_cookies)
        redirect(resp, "/ui/login")


class Connections:
    """``/ui/connections``: the list with filter, sort, paging and bulk delete."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        caller = self.console.caller(req)
        query = list_query(req)
        items, links = caller.page(CONNECTION, query, "/ui/connections")
        self.console.page(
            req,
            resp,
            "connections.html",
            tab=tab_of(CONNECTION),
            connections=items,
            notes=status_notes(caller, items, self.console.driver),
            deletable=any(caller.can("delete", CONNECTION, c) for c in items),
            links={link["rel"]: link["href"] for link in links},
            related=related(caller),
            query=dict(query),
            query_string=req.query_string,
            statuses=STATUSES,
            sort_keys=sorted(caller.res(CONNECTION).sort_keys),
        )


class Resources:
    """``/ui/<tab>``: the other tabs' lists, each row with what uses it."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        tab = _tab(slug)
        caller = self.console.caller(req)
        items = caller.items(tab.member)
        connections = caller.items(CONNECTION)
        self.console.page(
            req,
            resp,
            "resources.html",
            tab=tab,
            items=items,
            columns=COLUMNS[tab.member],
            users={o["id"]: caller.users(tab.member, o["id"], connections) for o in items},
            routers=by_id(caller.items("router")),
        )


def looked_up(
    console: Console, req: falcon.Request, slug: str, obj_id: str
) -> tuple[Tab, Caller, dict[str, Any], list[dict[str, Any]]]:
    """The tab, the caller, the object and the connections that use it."""
    tab = _tab(slug)
    caller = console.caller(req)
    obj = caller.get(tab.member, obj_id)
    return tab, caller, obj, caller.users(tab.member, obj_id, caller.items(CONNECTION))


class Detail:
    """``/ui/<tab>/<id>``: every attribute, what it uses and what uses it; for
    a connection also the tunnel panel."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str, obj_id: str) -> None:
        tab, caller, obj, users = looked_up(self.console, req, slug, obj_id)
        values: dict[str, Any] = {
            "tab": tab,
            "obj": obj,
            "res": caller.res(tab.member),
            "users": users,
            "related": related(caller),
        }
        if tab.member == CONNECTION:
            values["tunnel"] = tunnel_of(self.console.api, caller.ctx, obj_id)
            values["note"] = status_notes(caller, [obj], self.console.driver)[obj_id]
            values["may_export_psk"] = caller.allowed(PSK_EXPORT_RULE, CONNECTION, obj)
            values["formats"] = PEER_CONFIG_FORMATS
        self.console.page(req, resp, "detail.html", **values)


@dataclass(frozen=True)
class RelayedError:
    """An API error shown on the console's error page."""

    status: int
    type: str
    message: str


class PeerConfig:
    """``GET /ui/connections/<id>/peer-config?format=…[&include_psk=true]``:
    the peer configuration as a download (a plain form, no script)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str, obj_id: str) -> None:
        if _tab(slug).member != CONNECTION:
            raise errors.HTTPNotFound()
        caller = self.console.caller(req)
        fmt = req.get_param("format") or PEER_CONFIG_FORMATS[0]
        with_psk = req.get_param("include_psk") == "true"
        answer = peer_config_of(self.console.api, caller.ctx, obj_id, fmt, with_psk)
        if answer.status != 200:
            kind, message = answer.error()
            error = RelayedError(answer.status, kind, message)
            self.console.page(req, resp, "error.html", answer.status, error=error)
            return
        resp.content_type = answer.headers["content-type"]
        resp.set_header("Content-Disposition", answer.headers["content-disposition"])
        resp.data = answer.body


class Delete:
    """``/ui/<tab>/<id>/delete``: GET asks for confirmation (or says why the
    object cannot go); POST deletes through the controller."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str, obj_id: str) -> None:
        tab, _, obj, users = looked_up(self.console, req, slug, obj_id)
        self.console.page(req, resp, "delete.html", tab=tab, objs=[obj], users=users)

    def on_post(self, req: falcon.Request, resp: falcon.Response, slug: str, obj_id: str) -> None:
        tab = _tab(slug)
        self.console.caller(req).delete(tab.member, obj_id)
        redirect(resp, f"/ui/{tab.slug}?done=deleted")


class BulkDelete:
    """``POST /ui/connections/delete``: the checked rows; a first POST shows
    the confirmation, the confirmed one deletes them."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        caller, form = self.console.caller(req), req.context.form
        ids = form.all("id")
        tab = tab_of(CONNECTION)
        if not form.has("confirm"):
            objs = [caller.get(CONNECTION, i) for i in ids]
            self.console.page(req, resp, "delete.html", tab=tab, objs=objs, users=[])
            return
        for obj_id in ids:
            caller.delete(CONNECTION, obj_id)
        redirect(resp, "/ui/connections?done=deleted")


ROUTES: list[tuple[str, type]] = [
    ("/ui", Root),
    ("/ui/", Root),
    ("/ui/static/{name}", Static),
    ("/ui/login", Login),
    ("/ui/logout", Logout),
    ("/ui/connections", Connections),
    ("/ui/connections/status", ConnectionStatus),
    ("/ui/connections/delete", BulkDelete),
    ("/ui/{slug}", Resources),
    ("/ui/{slug}/{obj_id}", Detail),
    ("/ui/{slug}/{obj_id}/delete", Delete),
    ("/ui/{slug}/{obj_id}/peer-config", PeerConfig),
]
