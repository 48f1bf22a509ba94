"""Routes of the read-only sub-resources the spec declares (``views``):
``GET <path>/{id}/<view>``, each answered by its own module."""

from __future__ import annotations

import falcon

from vpnaas.api import http, peer_config, tunnel
from vpnaas.api.controller import Controller
from vpnaas.spec.vpn import PEER_CONFIG_VIEW, TUNNEL_VIEW

__all__ = ["add_view_routes"]


class TunnelRoute:
    def __init__(self, controller: Controller, driver: str) -> None:
        self.controller = controller
        self.driver = driver

    def on_get(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        ctx = http.context(req)
        http.send(resp, tunnel.tunnel(self.controller, ctx, obj_id, self.driver))


class PeerConfigRoute(TunnelRoute):
    def on_get(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        ctx = http.context(req)
        found = peer_config.export(self.controller, ctx, obj_id, http.params(req))
        resp.content_type = "text/plain; charset=utf-8"
        resp.set_header("Content-Disposition", f'attachment; filename="{found.filename}"')
        resp.text = found.body


_ROUTES: dict[str, type[TunnelRoute]] = {
    TUNNEL_VIEW: TunnelRoute,
    PEER_CONFIG_VIEW: PeerConfigRoute,
}


def add_view_routes(
    app: falcon.App[falcon.Request, falcon.Response], controller: Controller, driver: str
) -> None:
    for res in controller.catalog.resources:
        for view in res.views:
            route = _ROUTES.get(view)
            if route is not None:
                app.add_route(f"/v2.0{res.path}/{{obj_id}}/{view}", route(controller, driver))
