"""JSON Schema of attribute values, per kind: what a request may send
(``request_schema``) and what a response carries (``response_schema``).

A request schema describes the canonical form; Neutron's converters also
accept some other spellings (``"true"`` for a boolean, ``"1500"`` for an
integer), which the schemas leave out. A composite's integer keys are an
exception on the way out: the create and update answers echo them as the
client spelled them (see :mod:`vpnaas.api.body`), so the response schema
allows every spelling the converter accepts.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from vpnaas.spec.core import FIXED_IP, GatewayInfo, SubnetCidr
from vpnaas.spec.kinds import Bool, Cidr, Enum, Int, IntChoice, IpAddress, Kind, Str, Uuid
from vpnaas.spec.structured import Composite, ListOf, Record

__all__ = ["filter_schema", "request_schema", "response_schema"]

Schema = dict[str, Any]


def _nullable(schema: Schema, nullable: bool) -> Schema:
    if not nullable:
        return schema
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


@singledispatch
def request_schema(kind: Kind) -> Schema:
    """What a request may send for an attribute of ``kind``."""
    return {"type": "string"}


@request_schema.register
def _(kind: Str) -> Schema:
    return _nullable({"type": "string", "maxLength": kind.max_len}, kind.nullable)


@request_schema.register
def _(kind: Enum) -> Schema:
    return _nullable({"type": "string", "enum": list(kind.values)}, kind.nullable)


@request_schema.register
def _(kind: IntChoice) -> Schema:
    return {"type": "integer", "enum": list(kind.values)}


@request_schema.register
def _(kind: Bool) -> Schema:
    return {"type": "boolean"}


@request_schema.register
def _(kind: Int) -> Schema:
    schema = {"type": "integer", "minimum": kind.minimum, "maximum": kind.maximum}
    return _nullable(schema, kind.nullable)


@request_schema.register
def _(kind: Uuid) -> Schema:
    return _nullable({"type": "string", "format": "uuid"}, kind.nullable)


@request_schema.register(Cidr)
@request_schema.register(SubnetCidr)
def _(kind: Kind) -> Schema:
    return {"type": "string", "format": "cidr", "description": "an IP network in CIDR notation"}


@request_schema.register
def _(kind: IpAddress) -> Schema:
    schema = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    return _nullable(schema, kind.nullable)


@request_schema.register
def _(kind: Composite) -> Schema:
    return {
        "type": ["object", "null"],
        "properties": {sub.name: request_schema(sub.kind) for sub in kind.keys},
        "additionalProperties": False,
    }


@request_schema.register
def _(kind: Record) -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": {sub.name: request_schema(sub.kind) for sub in kind.keys},
        "additionalProperties": False,
    }
    if kind.required:
        schema["required"] = [sub.name for sub in kind.keys]
    return schema


@request_schema.register
def _(kind: ListOf) -> Schema:
    schema: Schema = {"type": "array", "items": request_schema(kind.item)}
    if kind.unique:
        schema["uniqueItems"] = True
    return schema


@request_schema.register
def _(kind: GatewayInfo) -> Schema:
    return {
        "anyOf": [
            {"type": "null"},
            {"type": "object", "maxProperties": 0},
            {
                "type": "object",
                "properties": {
                    "network_id": {"type": "string", "format": "uuid"},
                    "enable_snat": {"type": "boolean"},
                    "external_fixed_ips": {"type": "array", "items": request_schema(FIXED_IP)},
                },
                "required": ["network_id"],
                "additionalProperties": False,
            },
        ]
    }


@singledispatch
def response_schema(kind: Kind) -> Schema:
    """What a response carries for an attribute of ``kind``."""
    return request_schema(kind)


@response_schema.register
def _(kind: Composite) -> Schema:
    return {
        "type": "object",
        "properties": {sub.name: _echoed(sub.kind) for sub in kind.keys},
        "additionalProperties": False,
    }


def _echoed(kind: Kind) -> Schema:
    if isinstance(kind, Int):
        return {
            "type": ["integer", "number", "string", "boolean"],
            "description": "an integer; the create and update answers echo the client's spelling",
        }
    return response_schema(kind)


@response_schema.register
def _(kind: Record) -> Schema:
    return {
        "type": "object",
        "properties": {
            sub.name: _nullable(response_schema(sub.kind), not kind.required) for sub in kind.keys
        },
        "additionalProperties": False,
    }


@response_schema.register
def _(kind: ListOf) -> Schema:
    return {"type": "array", "items": response_schema(kind.item)}


@response_schema.register
def _(kind: GatewayInfo) -> Schema:
    return {
        "type": ["object", "null"],
        "properties": {
            "network_id": {"type": "string", "format": "uuid"},
            "enable_snat": {"type": "boolean"},
            "external_fixed_ips": {"type": "array", "items": response_schema(FIXED_IP)},
        },
        "additionalProperties": False,
    }


def filter_schema(kind: Kind) -> Schema:
    """One value of a list filter on an attribute of ``kind``."""
    if isinstance(kind, Bool):
        return {"type": "boolean"}
    if isinstance(kind, Int | IntChoice):
        return {"type": "integer"}
    return {"type": "string"}
