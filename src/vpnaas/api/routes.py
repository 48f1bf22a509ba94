"""Routes derived from the catalog, plus discovery documents.

For every resource: ``GET/POST /v2.0<path>``, ``GET/PUT/DELETE
/v2.0<path>/{id}`` and ``PUT /v2.0<path>/{id}/<action>`` for each of its
member actions (the handlers are registered with the controller); other
methods are 405 with an ``Allow`` header. Ids are not checked for shape: an
unknown one is the resource's 404.
"""

from __future__ import annotations

from typing import Any

import falcon
import orjson

from vpnaas import errors
from vpnaas.api import http
from vpnaas.api.controller import Controller
from vpnaas.api.openapi_shapes import OPENAPI_PATH
from vpnaas.db.engine import retrying
from vpnaas.spec import Catalog, Resource

__all__ = ["Limits", "add_discovery_routes", "add_openapi_route", "add_resource_routes"]


class Limits:
    """Request-independent knobs the routes need."""

    def __init__(self, max_body: int, link_prefix: str | None) -> None:
        self.max_body = max_body
        self.link_prefix = link_prefix


class Collection:
    def __init__(self, controller: Controller, res: Resource, limits: Limits) -> None:
        self.controller = controller
        self.res = res
        self.limits = limits
        if not (res.writable and res.creatable):
            self.on_post = None  # type: ignore[assignment]

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        doc = self.controller.index(
            http.context(req),
            self.res,
            http.params(req),
            http.base_url(req, self.limits.link_prefix),
        )
        http.send_tagged(req, resp, doc)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx, body = http.context(req), http.json_body(req, self.limits.max_body)
        doc = retrying(lambda: self.controller.create(ctx, self.res, body))
        http.send(resp, doc, 201)


class Member:
    def __init__(self, controller: Controller, res: Resource, limits: Limits) -> None:
        self.controller = controller
        self.res = res
        self.limits = limits

    def on_get(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        shown = self.controller.show(http.context(req), self.res, obj_id, http.params(req))
        http.send_encoded(resp, shown)

    def on_put(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        ctx, body = http.context(req), http.json_body(req, self.limits.max_body)
        http.send(resp, retrying(lambda: self.controller.update(ctx, self.res, obj_id, body)))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        http.no_body(req, self.limits.max_body)
        ctx = http.context(req)
        retrying(lambda: self.controller.delete(ctx, self.res, obj_id))
        resp.status = 204


class Action:
    """``PUT <path>/{id}/<action>``: a bare body, the handler's answer."""

    def __init__(self, controller: Controller, res: Resource, action: str, limits: Limits) -> None:
        self.controller = controller
        self.res = res
        self.action = action
        self.limits = limits

    def on_put(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        ctx, body = http.context(req), http.json_body(req, self.limits.max_body)
        act = self.controller.act
        http.send(resp, retrying(lambda: act(ctx, self.res, self.action, obj_id, body)))


class ReadOnlyMember:
    def __init__(self, controller: Controller, res: Resource) -> None:
        self.controller = controller
        self.res = res

    def on_get(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        shown = self.controller.show(http.context(req), self.res, obj_id, http.params(req))
        http.send_encoded(resp, shown)


def add_resource_routes(
    app: falcon.App[falcon.Request, falcon.Response],
    controller: Controller,
    cat: Catalog,
    limits: Limits,
) -> None:
    for res in cat.resources:
        app.add_route(f"/v2.0{res.path}", Collection(controller, res, limits))
        member = (
            Member(controller, res, limits) if res.writable else ReadOnlyMember(controller, res)
        )
        app.add_route(f"/v2.0{res.path}/{{obj_id}}", member)
        for action in res.actions:
            app.add_route(
                f"/v2.0{res.path}/{{obj_id}}/{action}", Action(controller, res, action, limits)
            )


class Versions:
    """``GET /``: the one API version (no authentication needed)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        href = f"{req.prefix}/v2.0/"
        http.send(
            resp,
            {
                "versions": [
                    {"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}
                ]
            },
        )


class Version:
    """``GET /v2.0/``: the core collections."""

    def __init__(self, cat: Catalog) -> None:
        self.core = [r for r in cat.resources if r.extension == "core"]

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        http.send(
            resp,
            {
                "resources": [
                    {
                        "name": r.member,
                        "collection": r.collection,
                        "links": [{"rel": "self", "href": f"{req.prefix}/v2.0{r.path}"}],
                    }
                    for r in self.core
                ]
            },
        )


def _not_found(req: falcon.Request, resp: falcon.Response, **_: str) -> None:
    raise errors.HTTPNotFound()


class Extensions:
    """``GET /v2.0/extensions``; writes are 404 as in Neutron."""

    def __init__(self, cat: Catalog) -> None:
        self.docs = [e.document() for e in cat.extensions]

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        http.send(resp, {"extensions": self.docs})

    on_post = on_put = on_delete = staticmethod(_not_found)


class Extension:
    def __init__(self, cat: Catalog) -> None:
        self.docs = {e.alias: e.document() for e in cat.extensions}

    def on_get(self, req: falcon.Request, resp: falcon.Response, alias: str) -> None:
        doc = self.docs.get(alias)
        if doc is None:
            raise errors.HTTPNotFound(msg=f"Extension with alias {alias} does not exist")
        http.send(resp, {"extension": doc})

    on_post = on_put = on_delete = staticmethod(_not_found)


class OpenApi:
    """``GET /v2.0/openapi.json``: the API's contract, encoded once."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.body = orjson.dumps(document)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        http.send_encoded(resp, self.body)


def add_openapi_route(
    app: falcon.App[falcon.Request, falcon.Response], document: dict[str, Any]
) -> None:
    # the Shape middleware strips ".json" from /v2.0/ paths before routing
    app.add_route(OPENAPI_PATH.removesuffix(".json"), OpenApi(document))


def add_discovery_routes(app: falcon.App[falcon.Request, falcon.Response], cat: Catalog) -> None:
    app.add_route("/", Versions())
    app.add_route("/v2.0/", Version(cat))
    app.add_route("/v2.0/extensions", Extensions(cat))
    app.add_route("/v2.0/extensions/{alias}", Extension(cat))
