"""Meta-tests: the gabbi stories exercise every public error type and every
route and method the server has (every one its OpenAPI document lists)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpnaas import errors
from vpnaas.api import openapi
from vpnaas.spec import catalog

GABBITS = Path(__file__).parent / "gabbits"

#: error types no story can provoke in process, and why
UNREACHABLE_IN_PROCESS = {
    "HTTPInternalServerError": "only a bug produces it; the fuzz tests assert it never occurs",
    "ServiceUnavailable": "needs a database that goes away; tests/server covers it",
    "Conflict": "only two racing requests produce it; tests/server covers it",
    "HTTPRequestTimeout": "the server's front answers it; tests/server/test_slow_clients.py",
    "HTTPRequestURITooLong": "the server's front answers it; tests/server/test_http_edges.py",
    "HTTPRequestHeaderFieldsTooLarge": "the front answers it; tests/server/test_http_edges.py",
}


@cache
def _tests() -> tuple[dict[str, Any], ...]:
    """Every test of every story, as gabbi reads it (anchors and merge keys
    resolved, flow or block style alike)."""
    found: list[dict[str, Any]] = []
    for path in sorted(GABBITS.glob("*.yaml")):
        found.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get("tests", []))
    return tuple(found)


@cache
def _asserted_error_types() -> frozenset[str]:
    """Error types stories assert, alone or as part of the whole document."""
    found = set()
    for test in _tests():
        paths = test.get("response_json_paths") or {}
        if "$.NeutronError.type" in paths:
            found.add(str(paths["$.NeutronError.type"]))
        if isinstance(paths.get("$.NeutronError"), dict):
            found.add(str(paths["$.NeutronError"].get("type")))
    return frozenset(found)


@pytest.mark.parametrize("cls", errors.public_errors(), ids=lambda c: c.__name__)
def test_every_error_type_appears_in_a_story(cls: type[errors.ApiError]) -> None:
    if cls.__name__ in UNREACHABLE_IN_PROCESS:
        return
    assert cls.__name__ in _asserted_error_types(), (
        f"no gabbit asserts $.NeutronError.type: {cls.__name__}"
    )


@cache
def _requests() -> frozenset[tuple[str, str]]:
    found = set()
    for test in _tests():
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            if method in test:
                found.add((method, str(test[method]).split("?", 1)[0]))
        if "url" in test:
            found.add((test.get("method", "GET"), str(test["url"]).split("?", 1)[0]))
    return frozenset(found)


def _documented_routes() -> list[tuple[str, str]]:
    """Every method and path of the served OpenAPI document."""
    doc = openapi.document(catalog())
    return [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    ]


@pytest.mark.parametrize(("method", "route"), _documented_routes(), ids=" ".join)
def test_every_route_and_method_appears_in_a_story(method: str, route: str) -> None:
    pattern = re.compile(re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(route)) + r"(\.json)?")
    if any(m == method and pattern.fullmatch(url) for m, url in _requests()):
        return
    pytest.fail(f"no gabbit sends {method} {route}")


def _enum_values() -> list[tuple[str, str, str]]:
    from vpnaas.spec.kinds import Enum
    from vpnaas.spec.structured import Composite

    found: list[tuple[str, str, str]] = []
    for cat in (catalog(), catalog(legacy_crypto=True)):
        for res in cat.resources:
            for fld in res.fields:
                kinds = [(fld.name, fld.kind)]
                if isinstance(fld.kind, Composite):
                    kinds = [(f"{fld.name}.{sub.name}", sub.kind) for sub in fld.kind.keys]
                for name, kind in kinds:
                    if isinstance(kind, Enum) and (fld.create or fld.update):
                        found.extend((res.member, name, v) for v in kind.values)
    return sorted(set(found))


def _pairs(value: Any) -> Iterator[tuple[str, str]]:
    """Every (key, string value) pair anywhere inside a request body."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield str(key), item
            yield from _pairs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pairs(item)


@cache
def _sent_pairs() -> frozenset[tuple[str, str]]:
    return frozenset(pair for test in _tests() for pair in _pairs(test.get("data")))


@pytest.mark.parametrize(
    ("member", "attribute", "value"), _enum_values(), ids=lambda v: str(v).replace(":", "-")
)
def test_every_enumeration_value_is_sent_by_a_story(
    member: str, attribute: str, value: str
) -> None:
    key = attribute.rsplit(".", 1)[-1]
    assert (key, value) in _sent_pairs(), f"no story sends {member} {attribute}: {value}"
