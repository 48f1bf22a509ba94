"""The parts of the OpenAPI document no resource declares: the error and
link shapes, and the discovery routes (versions, extensions, the document
itself)."""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI_PATH", "REQUEST_ID", "discovery_paths", "ref", "shared_schemas"]

Schema = dict[str, Any]

OPENAPI_PATH = "/v2.0/openapi.json"

_STRING = {"type": "string"}
#: every answer carries its request id
REQUEST_ID = {
    "x-openstack-request-id": {"required": True, "schema": {"type": "string", "pattern": "^req-"}}
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: Schema, *, required: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(properties)
    return schema


def shared_schemas() -> Schema:
    return {
        "NeutronError": _object(
            {
                "NeutronError": _object(
                    {
                        "type": {**_STRING, "description": "the public error type"},
                        "message": _STRING,
                        "detail": _STRING,
                    }
                )
            }
        ),
        "Link": _object({"rel": _STRING, "href": _STRING}),
        "Extension": _object(
            {
                "name": _STRING,
                "alias": _STRING,
                "description": _STRING,
                "updated": _STRING,
                "links": {"type": "array", "items": ref("Link")},
            }
        ),
    }


def _get(op_id: str, schema: Schema, errors: tuple[int, ...], **extra: Any) -> Schema:
    answers: Schema = {
        "200": {
            "description": "OK",
            "headers": REQUEST_ID,
            "content": {"application/json": {"schema": schema}},
        }
    }
    for status in errors:
        answers[str(status)] = {
            "description": "Error",
            "headers": REQUEST_ID,
            "content": {"application/json": {"schema": ref("NeutronError")}},
        }
    return {"get": {"operationId": op_id, "tags": ["discovery"], "responses": answers, **extra}}


def _not_found(name: str) -> Schema:
    """Writes to the extension documents: 404, as Neutron answers them."""
    answer = {
        "description": "Extensions cannot be written",
        "headers": REQUEST_ID,
        "content": {"application/json": {"schema": ref("NeutronError")}},
    }
    return {
        method: {
            "operationId": f"{method}_{name}",
            "tags": ["discovery"],
            "responses": {"404": answer},
        }
        for method in ("post", "put", "delete")
    }


def discovery_paths() -> Schema:
    links = {"type": "array", "items": ref("Link")}
    version = _object({"id": _STRING, "status": _STRING, "links": links})
    resource = _object({"name": _STRING, "collection": _STRING, "links": links})
    return {
        "/": _get("list_versions", _object({"versions": {"type": "array", "items": version}}), ()),
        "/v2.0/": _get(
            "show_version", _object({"resources": {"type": "array", "items": resource}}), (401,)
        ),
        "/v2.0/extensions": {
            **_get(
                "list_extensions",
                _object({"extensions": {"type": "array", "items": ref("Extension")}}),
                (401,),
            ),
            **_not_found("extensions"),
        },
        "/v2.0/extensions/{alias}": {
            "parameters": [{"name": "alias", "in": "path", "required": True, "schema": _STRING}],
            **_get("show_extension", _object({"extension": ref("Extension")}), (401, 404)),
            **_not_found("extension"),
        },
        OPENAPI_PATH: _get(
            "show_openapi",
            {"type": "object", "description": "this document"},
            (),
        ),
    }
