"""The tunnel panel asks the API for the telemetry sub-resource in process:
its document when a data plane serves the route, nothing otherwise."""

from __future__ import annotations

from typing import Any

import falcon

from vpnaas.api import http
from vpnaas.context import RequestContext, get_context
from vpnaas.ui.tunnel import tunnel_of

CTX = RequestContext(project_id="p1", roles=frozenset({"member", "reader"}))


class Tunnel:
    """What a data plane's route might answer, for the caller it was given."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        caller = get_context(req.env)
        doc: dict[str, Any] = {"tunnel": {"state": "ESTABLISHED", "connection": obj_id}}
        doc["tunnel"]["asked_by"] = caller.project_id
        http.send(resp, doc)


def test_the_panel_shows_the_telemetry_once_the_route_exists() -> None:
    api = falcon.App()
    api.add_route("/v2.0/vpn/ipsec-site-connections/{obj_id}/tunnel", Tunnel())
    assert tunnel_of(api, CTX, "c1") == {
        "state": "ESTABLISHED",
        "connection": "c1",
        "asked_by": "p1",
    }


def test_without_the_route_the_panel_has_no_telemetry() -> None:
    assert tunnel_of(falcon.App(), CTX, "c1") is None
