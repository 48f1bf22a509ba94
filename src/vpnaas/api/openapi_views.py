"""The OpenAPI shapes of the views the spec declares (``GET
<path>/{id}/<view>``): the tunnel document and the peer configuration."""

from __future__ import annotations

from typing import Any

from vpnaas.api.openapi_shapes import REQUEST_ID, ref
from vpnaas.spec import Resource
from vpnaas.spec.vpn import PEER_CONFIG_FORMATS, PEER_CONFIG_VIEW, TUNNEL_VIEW

__all__ = ["view_paths", "view_schemas"]

Schema = dict[str, Any]

_STAMP = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": ["string", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
_ERRORS = {
    "400": "The request is malformed",
    "401": "No valid token (keystone mode)",
    "403": "The policy forbids the action",
    "404": "No such connection, or hidden from the caller",
    "503": "The database is unreachable, or a stored secret cannot be decrypted",
}


def _tunnel() -> Schema:
    properties: Schema = {
        "connection_id": {"type": "string"},
        "data_plane": {"type": "string"},
        "status": {"type": "string"},
        "status_reason": _TEXT,
        "last_status_change": _STAMP,
        "agent": {
            "type": ["object", "null"],
            "properties": {
                "host": {"type": "string"},
                "alive": {"type": "boolean"},
                "last_report_at": _STAMP,
            },
        },
        "ike_sa": {"type": ["object", "null"]},
        "child_sas": {"type": "array", "items": {"type": "object"}},
        "local_address": _TEXT,
        "peer_address": _TEXT,
        "nat_t": {"type": ["boolean", "null"]},
        "ike_proposal": _TEXT,
        "esp_proposal": _TEXT,
        "established_at": _STAMP,
        "last_rekey_at": _STAMP,
        "next_rekey_at": _STAMP,
        "bytes_in": _COUNT,
        "bytes_out": _COUNT,
        "packets_in": _COUNT,
        "packets_out": _COUNT,
        "effective_mtu": {"type": ["integer", "null"]},
        "effective_dpd_timeout": {"type": ["number", "null"]},
        "history": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "properties": {"at": _STAMP, "status": {"type": "string"}, "reason": _TEXT},
            },
        },
    }
    inner = {"type": "object", "properties": properties, "required": list(properties)}
    return {"type": "object", "properties": {"tunnel": inner}, "required": ["tunnel"]}


def view_schemas() -> Schema:
    return {"tunnel": _tunnel()}


def _answers(ok: Schema) -> Schema:
    found: Schema = {"200": ok}
    for status, text in _ERRORS.items():
        found[status] = {
            "description": text,
            "headers": REQUEST_ID,
            "content": {"application/json": {"schema": ref("NeutronError")}},
        }
    return found


def _tunnel_op(res: Resource) -> Schema:
    ok = {
        "description": "OK",
        "headers": REQUEST_ID,
        "content": {"application/json": {"schema": ref("tunnel")}},
    }
    return {
        "operationId": f"show_{res.member}_tunnel",
        "tags": [res.collection],
        "responses": _answers(ok),
    }


def _peer_config_op(res: Resource) -> Schema:
    ok = {
        "description": "A configuration for the remote gateway",
        "headers": {
            **REQUEST_ID,
            "content-disposition": {"required": True, "schema": {"type": "string"}},
        },
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    params = [
        {
            "name": "format",
            "in": "query",
            "schema": {"type": "string", "enum": list(PEER_CONFIG_FORMATS)},
        },
        {"name": "include_psk", "in": "query", "schema": {"type": "boolean"}},
    ]
    return {
        "operationId": f"export_{res.member}_peer_config",
        "tags": [res.collection],
        "parameters": params,
        "responses": _answers(ok),
    }


_OPERATIONS = {TUNNEL_VIEW: _tunnel_op, PEER_CONFIG_VIEW: _peer_config_op}


def view_paths(res: Resource) -> Schema:
    """The paths of ``res``'s views."""
    param = {"name": "obj_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        f"/v2.0{res.path}/{{obj_id}}/{view}": {
            "parameters": [param],
            "get": _OPERATIONS[view](res),
        }
        for view in res.views
    }
