"""``GET /v2.0/vpn/ipsec-site-connections/{id}/peer-config``: a
configuration for the remote gateway (docs/api/peer-config.md).

The connection is read as the agents get it (the desired state of its
router), turned around (addresses, ids and CIDRs swapped), and translated
by the agent's own mapping (:mod:`vpnaas.ipsec.translate`), so the export
and what the agent loads cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vpnaas import errors
from vpnaas.api import peer_render, query
from vpnaas.api.controller import Controller
from vpnaas.api.tunnel import shown_connection
from vpnaas.context import RequestContext
from vpnaas.drivers.strongswan.state import desired_state
from vpnaas.ipsec import translate
from vpnaas.ipsec.desired import Connection, Group, parse_state
from vpnaas.spec.vpn import PEER_CONFIG_FORMATS, PSK_EXPORT_RULE

__all__ = ["Export", "export"]

_PARAMS = ("format", "include_psk")
_BOOLS = {"true": True, "false": False}
_SUFFIX = {"swanctl": "swanctl.conf", "libreswan": "ipsec.conf", "text": "txt"}


@dataclasses.dataclass(frozen=True)
class Export:
    body: str
    filename: str


def _options(params: query.Params) -> tuple[str, bool]:
    for key, _ in params.pairs:
        if key not in _PARAMS:
            raise errors.PeerConfigParameterInvalid(name=key, why="unknown parameter")
    fmt = params.last("format") or "swanctl"
    if fmt not in PEER_CONFIG_FORMATS:
        raise errors.PeerConfigFormatInvalid(format=fmt, formats=", ".join(PEER_CONFIG_FORMATS))
    raw = (params.last("include_psk") or "false").lower()
    if raw not in _BOOLS:
        raise errors.PeerConfigParameterInvalid(name="include_psk", why="use true or false")
    return fmt, _BOOLS[raw]


def mirrored(conn: Connection) -> Connection:
    """``conn`` as the remote gateway sees it. A response-only connection
    waits for the peer, so the peer is made to start it."""
    return dataclasses.replace(
        conn,
        enabled=True,
        local_address=conn.peer_address,
        peer_address=conn.local_address or "%any",
        local_id=conn.peer_id,
        peer_id=conn.local_id or "%any",
        local_cidrs=conn.peer_cidrs,
        peer_cidrs=conn.local_cidrs,
        initiator="bi-directional",
    )


def _charon_config(conn: Connection) -> tuple[str, dict[str, Any], dict[str, Any]]:
    peer = mirrored(conn)
    group = Group(name=f"vpn-{conn.id}", connections=(peer,))
    (name, ike), secret = (
        next(iter(translate.ike_config(group).items())),
        translate.shared_secret(group),
    )
    if conn.initiator == "response-only":
        for child in ike["children"].values():
            child["start_action"] = "start"
    return name, ike, secret


def _connection(
    controller: Controller, ctx: RequestContext, obj_id: str, with_psk: bool
) -> Connection:
    with controller.reading(ctx) as env:
        obj = shown_connection(controller, env, ctx, obj_id)
        if with_psk:
            target = controller.policy_target(env.res("ipsec_site_connection"), obj)
            controller.authz.authorize(ctx, [PSK_EXPORT_RULE], target)
        service = env.repo.get(env.res("vpnservice"), obj["vpnservice_id"], fields=("router_id",))
        assert service is not None  # a connection's service cannot be deleted under it
        state = parse_state(desired_state(env, [service["router_id"]]))
    return next(c for c in state.connections if c.id == obj_id)


def export(
    controller: Controller, ctx: RequestContext, obj_id: str, params: query.Params
) -> Export:
    """The peer configuration of ``obj_id`` in the asked format."""
    fmt, with_psk = _options(params)
    conn = _connection(controller, ctx, obj_id, with_psk)
    name, ike, secret = _charon_config(conn)
    psk = conn.psk if with_psk else None
    header = f"vpnaas: the remote side of IPsec site connection {obj_id}"
    if fmt == "swanctl":
        body = peer_render.swanctl(header, {name: ike}, secret, psk)
    elif fmt == "libreswan":
        body = peer_render.libreswan(header, ike, psk)
    else:
        body = peer_render.text(header, ike, psk)
    return Export(body=body, filename=f"vpn-{obj_id}.{_SUFFIX[fmt]}")
