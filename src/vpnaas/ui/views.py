"""Rendering: the Jinja2 environment (autoescaping everything) and the small
presentation helpers the templates share."""

from __future__ import annotations

from typing import Any

import falcon
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vpnaas.spec import Resource
from vpnaas.spec.kinds import Enum
from vpnaas.spec.structured import Composite
from vpnaas.spec.vpn import PENDING_STATUSES

__all__ = ["Views", "enum_fields"]


def enum_fields(res: Resource) -> list[tuple[str, tuple[str, ...], Any]]:
    """(name, choices, default) of every enumerated attribute a create may
    send: the choice lists come from the spec, never from a template."""
    return [
        (f.name, f.kind.values, f.default)
        for f in res.fields
        if f.create and isinstance(f.kind, Enum)
    ]


def sub_choices(res: Resource, field: str, key: str) -> tuple[str, ...]:
    """The choices of one key of a composite attribute (``dpd.action``)."""
    kind = res.field(field).kind
    assert isinstance(kind, Composite)
    for sub in kind.keys:
        if sub.name == key and isinstance(sub.kind, Enum):
            return sub.kind.values
    raise KeyError(key)


def sub_default(res: Resource, field: str, key: str) -> Any:
    kind = res.field(field).kind
    assert isinstance(kind, Composite)
    return kind.defaults()[key]


def status_reason(status: str, driver: str) -> str:
    """Why a service or connection is in ``status``, as far as the server knows."""
    if driver == "null":
        return "no data plane: the null driver never brings a tunnel up"
    if status in PENDING_STATUSES:
        return "waiting for the data plane to apply the change"
    return ""


def policy_summary(ike: dict[str, Any] | None, ipsec: dict[str, Any] | None) -> str:
    """One line for a connection's two policies."""
    parts = []
    if ike:
        parts.append(
            f"IKE {ike['ike_version']} {ike['encryption_algorithm']}/{ike['auth_algorithm']}"
            f" {ike['pfs']}"
        )
    if ipsec:
        parts.append(
            f"{ipsec['transform_protocol'].upper()} {ipsec['encryption_algorithm']}/"
            f"{ipsec['auth_algorithm']} {ipsec['pfs']}"
        )
    return " · ".join(parts) or "?"


class Views:
    """Templates of the console (``vpnaas/ui/templates``)."""

    def __init__(self, **globals_: Any) -> None:
        self.env = Environment(
            loader=PackageLoader("vpnaas.ui", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(globals_)
        self.env.globals.update(
            status_reason=status_reason,
            policy_summary=policy_summary,
            enum_fields=enum_fields,
            sub_choices=sub_choices,
            sub_default=sub_default,
        )

    def render(self, name: str, **values: Any) -> str:
        return self.env.get_template(name).render(**values)

    def send(self, resp: falcon.Response, name: str, status: int = 200, **values: Any) -> None:
        resp.status = status
        resp.content_type = "text/html; charset=utf-8"
        resp.text = self.render(name, **values)
