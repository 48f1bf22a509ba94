"""Meta-tests: the gabbi stories exercise every public error type and every
route and method the server has."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from vpnaas import errors
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
def _stories() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(GABBITS.glob("*.yaml")))


@pytest.mark.parametrize("cls", errors.public_errors(), ids=lambda c: c.__name__)
def test_every_error_type_appears_in_a_story(cls: type[errors.ApiError]) -> None:
    if cls.__name__ in UNREACHABLE_IN_PROCESS:
        return
    pattern = rf"NeutronError\.type:\s*['\"]?{cls.__name__}['\"]?\s*$"
    assert re.search(pattern, _stories(), re.MULTILINE), (
        f"no gabbit asserts $.NeutronError.type: {cls.__name__}"
    )


@cache
def _requests() -> frozenset[tuple[str, str]]:
    found = set()
    for path in GABBITS.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for test in doc.get("tests", []):
            for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
                if method in test:
                    found.add((method, str(test[method]).split("?", 1)[0]))
            if "url" in test:
                found.add((test.get("method", "GET"), str(test["url"]).split("?", 1)[0]))
    return frozenset(found)


ROUTES = [
    pytest.param(method, f"/v2.0{r.path}{suffix}", id=f"{method} {r.path}{suffix}")
    for r in catalog().resources
    for method, suffix in (
        ("GET", ""),
        ("POST", ""),
        ("GET", "/ID"),
        ("PUT", "/ID"),
        ("DELETE", "/ID"),
    )
    if r.writable or method == "GET"
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_every_route_and_method_appears_in_a_story(method: str, route: str) -> None:
    prefix = route.removesuffix("/ID")
    member = route.endswith("/ID")
    for seen_method, url in _requests():
        if seen_method != method:
            continue
        rest = url.split(prefix, 1)[1] if prefix in url else None
        if rest is None:
            continue
        if (member and rest.startswith("/") and rest.count("/") == 1) or (
            not member and rest in ("", ".json")
        ):
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


@pytest.mark.parametrize(
    ("member", "attribute", "value"), _enum_values(), ids=lambda v: str(v).replace(":", "-")
)
def test_every_enumeration_value_is_sent_by_a_story(
    member: str, attribute: str, value: str
) -> None:
    key = attribute.rsplit(".", 1)[-1]
    assert re.search(
        rf"^\s*{re.escape(key)}:\s*['\"]?{re.escape(value)}['\"]?\s*$", _stories(), re.MULTILINE
    ), f"no story sends {member} {attribute}: {value}"
