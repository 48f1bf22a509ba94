"""The OpenAPI 3.1 document of the API, derived from the catalog.

``GET /v2.0/openapi.json`` serves it. Every route the server has is in it:
discovery, each resource's collection and member, each member action, and
the document itself; request bodies come from the attributes' create/update
flags and kinds, responses from their visibility, and every error is a
NeutronError with the statuses the route can answer. Links from each create
to the operations on the new object, and to the creates that reference it,
let a client (or schemathesis) walk the API statefully.
"""

from __future__ import annotations

from typing import Any

from vpnaas.api.openapi_shapes import REQUEST_ID, discovery_paths, ref, shared_schemas
from vpnaas.api.openapi_views import view_paths, view_schemas
from vpnaas.api.query import filter_kind
from vpnaas.spec import Catalog, Resource
from vpnaas.spec.jsonschema import filter_schema, request_schema, response_schema
from vpnaas.spec.resource import OWNER, OWNER_ALIAS

__all__ = ["document"]

Schema = dict[str, Any]


#: error statuses, per kind of operation (``_ERROR_TEXT`` says when each occurs)
READ_ERRORS = (400, 401, 403, 503)
SHOW_ERRORS = (400, 401, 403, 404, 503)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 503)

_ERROR_TEXT = {
    400: "The request is malformed or breaks a rule",
    401: "No valid token (keystone mode)",
    403: "The policy forbids the action",
    404: "No such object, or hidden from the caller",
    409: "The object is in use or conflicts with another",
    413: "The body exceeds max_request_body_size",
    503: "The database is unreachable, or a stored secret cannot be decrypted",
}
#: what ``vpnaas serve``'s front refuses before any route runs
#: (:mod:`vpnaas.api.bridge`): on every operation, and 408 where a body is read
_FRONT_TEXT = {
    414: "The URL exceeds max_url_length",
    431: "A request header line exceeds max_header_line",
}
_BODY_TEXT = {408: "The body did not arrive within client_body_timeout"}


def _op_id(verb: str, res: Resource) -> str:
    return f"{verb}_{res.member}"


def _json(schema: Schema, description: str = "OK") -> Schema:
    return {
        "description": description,
        "headers": REQUEST_ID,
        "content": {"application/json": {"schema": schema}},
    }


def _responses(ok: int, ok_schema: Schema | None, errors: tuple[int, ...]) -> Schema:
    answers: Schema = {}
    if ok_schema is None:
        answers[str(ok)] = {"description": "Done", "headers": REQUEST_ID}
    else:
        answers[str(ok)] = _json(ok_schema)
    for status in errors:
        answers[str(status)] = _json(ref("NeutronError"), _ERROR_TEXT[status])
    return answers


def _body(schema: Schema) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# --- schemas -----------------------------------------------------------------


def _attributes(res: Resource, names: tuple[str, ...], schema_of: Any) -> Schema:
    return {name: schema_of(res.by_name[name].kind) for name in names}


def _item(res: Resource) -> Schema:
    return {
        "type": "object",
        "properties": _attributes(res, res.visible, response_schema),
        "additionalProperties": False,
    }


def _writable(res: Resource, allowed: Any) -> tuple[str, ...]:
    names = [n for n in res.wire_names if allowed(res.by_name[n])]
    if OWNER_ALIAS in names and not allowed(res.by_name[OWNER]):
        names.remove(OWNER_ALIAS)
    return tuple(names)


def _create(res: Resource) -> Schema:
    names = _writable(res, lambda f: f.create)
    inner: Schema = {
        "type": "object",
        "properties": _attributes(res, names, request_schema),
        "additionalProperties": False,
    }
    required = [n for n in names if res.by_name[n].required and n != OWNER_ALIAS]
    if required:
        inner["required"] = required
    return _envelope(res.member, inner)


def _update(res: Resource) -> Schema:
    names = tuple(n for n in _writable(res, lambda f: f.update) if n != OWNER_ALIAS)
    inner = {
        "type": "object",
        "properties": _attributes(res, names, request_schema),
        "additionalProperties": False,
    }
    return _envelope(res.member, inner)


def _envelope(key: str, inner: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {key: inner},
        "required": [key],
        "additionalProperties": False,
    }


def _list(res: Resource) -> Schema:
    return {
        "type": "object",
        "properties": {
            res.collection: {"type": "array", "items": ref(res.member)},
            f"{res.collection}_links": {"type": "array", "items": ref("Link")},
        },
        "required": [res.collection],
        "additionalProperties": False,
    }


# --- parameters --------------------------------------------------------------


def _repeated(name: str, items: Schema, description: str = "") -> Schema:
    param: Schema = {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": items},
    }
    if description:
        param["description"] = description
    return param


def _query(name: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _fields_param(res: Resource) -> Schema:
    return _repeated(
        "fields", {"type": "string", "enum": list(res.visible)}, "attributes to return"
    )


def _list_params(res: Resource) -> list[Schema]:
    params = [_fields_param(res)]
    params += [
        _repeated(name, filter_schema(filter_kind(res, name)), "filter (values are ORed)")
        for name in sorted(res.filters)
    ]
    if res.sort_keys:
        params.append(_repeated("sort_key", {"type": "string", "enum": sorted(res.sort_keys)}))
        params.append(_repeated("sort_dir", {"type": "string", "enum": ["asc", "desc"]}))
    params.append(_query("limit", {"type": "integer", "minimum": 0}))
    params.append(_query("marker", {"type": "string", "format": "uuid"}))
    params.append(_query("page_reverse", {"type": "boolean"}))
    return params


_ID = {"name": "obj_id", "in": "path", "required": True, "schema": {"type": "string"}}


# --- operations --------------------------------------------------------------


def _links(res: Resource, cat: Catalog) -> Schema:
    """From a create's answer: the operations on the new object, and the
    creates (and actions) of other resources that reference it."""
    new_id = f"$response.body#/{res.member}/id"
    links: Schema = {
        f"{verb}_it": {"operationId": _op_id(verb, res), "parameters": {"path.obj_id": new_id}}
        for verb in ("show", "update", "delete")
        if verb == "show" or res.writable
    }
    for action in res.actions:
        links[action] = {"operationId": action, "parameters": {"path.obj_id": new_id}}
    for other in cat.resources:
        for fld in other.fields:
            if (
                other.writable
                and other.creatable
                and fld.create
                and fld.ref == res.member
                and fld.stored
            ):
                links[f"{other.member}_{fld.name}"] = {
                    "operationId": _op_id("create", other),
                    "requestBody": {other.member: {fld.name: new_id}},
                }
    for declared in (a for other in cat.resources for a in other.member_actions):
        for key, member in declared.refs:
            if member == res.member:
                links[f"{declared.name}_{key}"] = {
                    "operationId": declared.name,
                    "requestBody": {key: new_id},
                }
    return links


def _collection(res: Resource, cat: Catalog) -> Schema:
    ops: Schema = {
        "get": {
            "operationId": _op_id("list", res),
            "tags": [res.collection],
            "parameters": _list_params(res),
            "responses": _responses(200, ref(f"{res.member}_list"), READ_ERRORS),
        }
    }
    if res.writable and res.creatable:
        created = _responses(201, _envelope(res.member, ref(res.member)), WRITE_ERRORS)
        created["201"]["links"] = _links(res, cat)
        ops["post"] = {
            "operationId": _op_id("create", res),
            "tags": [res.collection],
            "requestBody": _body(ref(f"{res.member}_create")),
            "responses": created,
        }
    return ops


def _member(res: Resource) -> Schema:
    shown = _envelope(res.member, ref(res.member))
    ops: Schema = {
        "parameters": [_ID],
        "get": {
            "operationId": _op_id("show", res),
            "tags": [res.collection],
            "parameters": [_fields_param(res)],
            "responses": _responses(200, shown, SHOW_ERRORS),
        },
    }
    if res.writable:
        ops["put"] = {
            "operationId": _op_id("update", res),
            "tags": [res.collection],
            "requestBody": _body(ref(f"{res.member}_update")),
            "responses": _responses(200, shown, WRITE_ERRORS),
        }
        ops["delete"] = {
            "operationId": _op_id("delete", res),
            "tags": [res.collection],
            "responses": _responses(204, None, WRITE_ERRORS),
        }
    return ops


def _action(res: Resource, action: str) -> Schema:
    return {
        "parameters": [_ID],
        "put": {
            "operationId": action,
            "tags": [res.collection],
            "requestBody": _body(ref(f"{action}_body")),
            "responses": _responses(200, ref(f"{action}_answer"), WRITE_ERRORS),
        },
    }


def _add_front_refusals(paths: Schema) -> None:
    """Every operation may meet the front's refusals; those with a body, 408."""
    for item in paths.values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            texts = {**_FRONT_TEXT, **(_BODY_TEXT if "requestBody" in operation else {})}
            for status, text in texts.items():
                operation["responses"].setdefault(str(status), _json(ref("NeutronError"), text))


def document(cat: Catalog) -> Schema:
    """The OpenAPI document of the API ``cat`` declares."""
    paths: Schema = discovery_paths()
    schemas: Schema = {**shared_schemas(), **view_schemas()}
    for res in cat.resources:
        paths[f"/v2.0{res.path}"] = _collection(res, cat)
        paths[f"/v2.0{res.path}/{{obj_id}}"] = _member(res)
        paths.update(view_paths(res))
        schemas[res.member] = _item(res)
        schemas[f"{res.member}_list"] = _list(res)
        if res.writable:
            if res.creatable:
                schemas[f"{res.member}_create"] = _create(res)
            schemas[f"{res.member}_update"] = _update(res)
        for action in res.member_actions:
            paths[f"/v2.0{res.path}/{{obj_id}}/{action.name}"] = _action(res, action.name)
            schemas[f"{action.name}_body"] = dict(action.body)
            schemas[f"{action.name}_answer"] = dict(action.answer)
    _add_front_refusals(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vpnaas: OpenStack Networking VPNaaS v2.0 and the Neutron core subset",
            "version": "2.0",
            "description": (
                "Identity: X-Auth-Token (keystone mode) or X-Project-Id, X-User-Id and "
                "X-Roles headers (noauth mode). Every error is a NeutronError document."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
