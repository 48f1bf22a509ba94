"""Request bodies: parse, check the envelope, apply defaults, convert, validate.

The steps and their order are Neutron's (``docs/api/common.md`` §bodies,
§create, §update): the envelope, the owner, unknown attributes, defaults /
required / read-only, then each attribute's converter and validator in
declaration order. Every failure is a 400 with Neutron's wording; nothing here
touches the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.spec import Field, Resource
from vpnaas.spec.kinds import Invalid, Unconvertible
from vpnaas.spec.resource import COMPUTED, OWNER, OWNER_ALIAS
from vpnaas.spec.structured import Composite

__all__ = ["Prepared", "load_json", "prepare_create", "prepare_update"]


@dataclass
class Prepared:
    """A checked body: converted ``values`` (wire names) and, for composite
    attributes, the client's own sub-values to echo in the response
    (``docs/api/common.md`` §composites: ``"2000"`` is answered as sent)."""

    values: dict[str, Any]
    echo: dict[str, dict[str, Any]]


#: the deepest a body may nest (``docs/api/common.md`` §bodies): far more
#: than any request of the API or of an agent needs, and far less than an
#: encoder (orjson stops at 255) or a repr in an error message can walk
MAX_DEPTH = 32


def load_json(raw: bytes) -> Any:
    """Decode a body; an empty body is ``None``.

    orjson decides what is valid JSON (it refuses NaN, invalid UTF-8 and lone
    surrogates), but reads integers wider than 64 bits as floats; a body with
    any float is therefore read again by the standard library, which keeps
    such integers exact. A body nested deeper than :data:`MAX_DEPTH` is
    refused here, once, before any layer walks it."""
    if not raw.strip():
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.MalformedRequestBody(reason="Cannot understand JSON") from None
    has_float = _walk(doc)
    return json.loads(raw) if has_float else doc


def _walk(doc: Any) -> bool:
    """Whether ``doc`` holds a float; ``MalformedRequestBody`` if it nests
    deeper than :data:`MAX_DEPTH` (iterative: no recursion to run out of)."""
    has_float = False
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, float):
            has_float = True
        elif isinstance(value, dict | list):
            if depth == MAX_DEPTH:
                raise errors.MalformedRequestBody(
                    reason=f"JSON nested deeper than {MAX_DEPTH} levels"
                )
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return has_float


def _bad(msg: str) -> errors.HTTPBadRequest:
    return errors.HTTPBadRequest(msg=msg)


def unwrap(res: Resource, doc: Any) -> dict[str, Any]:
    """The attributes inside ``{"<member>": {...}}`` (Neutron's envelope rules)."""
    if not doc:
        raise _bad("Resource body required")
    if not isinstance(doc, dict):
        raise _bad("Body contains invalid data")
    if res.member + "s" in doc:
        raise _bad("Bulk operation not supported")
    item = doc.get(res.member)
    if item is None:
        raise _bad(f"Unable to find '{res.member}' in request body")
    if not isinstance(item, dict):
        raise _bad(f"Object '{res.member}' contains invalid data")
    return item


def _owner(res: Resource, ctx: RequestContext, item: dict[str, Any]) -> str:
    """Settle ``project_id``/``tenant_id`` (``docs/api/common.md`` §owner); the
    name the client used, for messages about its value."""
    has_project, has_tenant = OWNER in item, OWNER_ALIAS in item
    given = OWNER_ALIAS if has_tenant and not has_project else OWNER
    if has_project and has_tenant and item[OWNER] != item[OWNER_ALIAS]:
        raise _bad("'project_id' and 'tenant_id' do not match")
    if has_tenant and not has_project:
        item[OWNER] = item[OWNER_ALIAS]
    item.pop(OWNER_ALIAS, None)
    if OWNER not in item:
        if ctx.project_id is None:
            raise _bad("Running without keystone AuthN requires that project_id is specified")
        item[OWNER] = ctx.project_id
    elif item[OWNER] != ctx.project_id and not ctx.unscoped:
        raise _bad(
            "Specifying 'project_id' other than the authenticated project in request "
            "is not allowed for the current user."
        )
    return given


def _unrecognized(res: Resource, item: dict[str, Any]) -> None:
    unknown = [key for key in item if key not in res.by_name]
    if unknown:
        raise _bad("Unrecognized attribute(s) '{}'".format(", ".join(map(str, unknown))))


def _check(fld: Field, value: Any, name: str | None = None) -> Any:
    """Run ``fld``'s converter then validator; return the converted value.
    ``name``: the attribute name to report (``tenant_id`` for the owner when
    the client used that spelling). A secret's value is never in a message."""
    given = value
    try:
        value = fld.kind.convert(value)
        fld.kind.validate(value)
    except Invalid as exc:
        reason = _hidden(fld, exc.reason, given, value)
        raise _bad(f"Invalid input for {name or fld.name}. Reason: {reason}.") from None
    except Unconvertible as exc:
        raise errors.InvalidInput(error_message=_hidden(fld, exc.message, given, value)) from None
    return value


def _hidden(fld: Field, message: str, *values: Any) -> str:
    """``message`` with a secret field's quoted value said as "The value"."""
    if not fld.secret:
        return message
    for value in values:
        message = message.replace(f"'{value}'", "The value")
    for value in values:  # a kind that words it otherwise: nothing of it at all
        if str(value) in message:
            return f"The value is not valid for {fld.name}"
    return message


def prepare_create(res: Resource, ctx: RequestContext, doc: Any) -> Prepared:
    """Check a create body and fill in every default."""
    item = dict(unwrap(res, doc))
    owner_name = _owner(res, ctx, item) if res.owned else OWNER
    _unrecognized(res, item)
    for fld in res.fields:
        if fld.name in item and not fld.create:
            raise _bad(f"Attribute '{fld.name}' not allowed in POST")
        if fld.required and fld.name not in item:
            raise _bad(f"Failed to parse request. Required attribute '{fld.name}' not specified")
    values: dict[str, Any] = {}
    echo: dict[str, dict[str, Any]] = {}
    for fld in res.fields:
        if not fld.create:
            continue
        if fld.name in item:
            name = owner_name if fld.name == OWNER else fld.name
            values[fld.name] = _check(fld, item[fld.name], name)
        elif fld.default is not COMPUTED:
            values[fld.name] = _check(fld, _copy(fld.default))
        if isinstance(fld.kind, Composite) and fld.name in values:
            given = values[fld.name]
            values[fld.name] = fld.kind.normalise(given, fld.kind.defaults())
            if given:
                echo[fld.name] = {**values[fld.name], **given}
    return Prepared(values, echo)


def prepare_update(res: Resource, doc: Any) -> Prepared:
    """Check an update body; composite values still need merging with the
    stored ones (:func:`merge_update`)."""
    item = unwrap(res, doc)
    _unrecognized(res, item)
    for fld in res.fields:
        if not fld.update and fld.name in item:
            raise _bad(f"Cannot update read-only attribute {fld.name}")
    if OWNER_ALIAS in item:
        raise _bad(f"Cannot update read-only attribute {OWNER_ALIAS}")
    values = {fld.name: _check(fld, item[fld.name]) for fld in res.fields if fld.name in item}
    return Prepared(values, {})


def merge_update(res: Resource, prepared: Prepared, current: dict[str, Any]) -> None:
    """Merge composite attributes key by key over the stored values."""
    for name, given in list(prepared.values.items()):
        kind = res.field(name).kind
        if isinstance(kind, Composite):
            prepared.values[name] = kind.normalise(given, current[name])
            if given:
                prepared.echo[name] = {**prepared.values[name], **given}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value
