"""The one create/edit form of a connection.

It can create what the connection needs on the way (a VPN service on a
router, IKE and IPsec policies, the local and peer endpoint groups): each is
created through the controller first, and removed again if a later step is
refused, so a refused form leaves nothing behind. Every refusal is the API's
own error, shown beside the field it concerns. The psk is write-only: on
edit a blank psk keeps the stored one.
"""

from __future__ import annotations

import re
from typing import Any

import falcon

from vpnaas import errors
from vpnaas.ui.console import Console
from vpnaas.ui.data import CONNECTION, Caller, tab_of
from vpnaas.ui.pages import redirect, related
from vpnaas.ui.security import Form
from vpnaas.ui.views import enum_fields

__all__ = ["ConnectionEdit", "ConnectionNew"]

NEW = "new"
#: form sections that may create their object inline: (select, member, prefix)
INLINE = (
    ("vpnservice_id", "vpnservice", "svc"),
    ("ikepolicy_id", "ikepolicy", "ike"),
    ("ipsecpolicy_id", "ipsecpolicy", "ipsec"),
    ("local_ep_group_id", "endpoint_group", "local"),
    ("peer_ep_group_id", "endpoint_group", "peer"),
)
TEXT = ("name", "description", "peer_address", "peer_id", "local_id")
#: errors that name no attribute in their text, and the field they concern
ERROR_FIELDS = {
    "IPsecSiteConnectionDpdIntervalValueError": "dpd",
    "IPsecSiteConnectionMtuError": "mtu",
    "VPNPeerAddressNotResolved": "peer_address",
    "MixedIPVersionsForIPSecConnection": "peer_ep_group_id",
    "MissingRequiredEndpointGroup": "local_ep_group_id",
}
FIELDS = (
    *TEXT,
    "psk",
    "mtu",
    "initiator",
    "admin_state_up",
    "dpd",
    *(select for select, _, _ in INLINE),
)


class Refused(Exception):
    """A step of the form was refused; ``errors`` maps field to message."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("form refused")
        self.errors = field_errors


def _number(value: str) -> Any:
    """An integer if the text is one; otherwise the text, for the API to refuse."""
    return int(value) if re.fullmatch(r"-?\d{1,12}", value.strip()) else value


def field_of(exc: errors.ApiError) -> str:
    """The form field an API error concerns (``""``: the form as a whole)."""
    if exc.type in ERROR_FIELDS:
        return ERROR_FIELDS[exc.type]
    message = exc.message
    for name in sorted(FIELDS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", message):
            return name
    return ""


def connection_values(form: Form, *, editing: bool) -> dict[str, Any]:
    """The connection attributes the form sends (the psk only if typed)."""
    values: dict[str, Any] = {name: form.get(name) for name in TEXT}
    psk = form.get("psk")
    if psk or not editing:
        values["psk"] = psk
    values["mtu"] = _number(form.get("mtu", "1500"))
    values["initiator"] = form.get("initiator")
    values["admin_state_up"] = form.get("admin_state_up") == "true"
    values["dpd"] = {
        "action": form.get("dpd_action"),
        "interval": _number(form.get("dpd_interval")),
        "timeout": _number(form.get("dpd_timeout")),
    }
    return values


def inline_values(caller: Caller, member: str, prefix: str, form: Form) -> dict[str, Any]:
    """The attributes of an object the form creates inline."""

    def get(key: str) -> str:
        return form.get(f"{prefix}-{key}")

    values: dict[str, Any] = {"name": get("name")}
    if member in ("ikepolicy", "ipsecpolicy"):
        for name, _, _ in enum_fields(caller.res(member)):
            values[name] = get(name)
        values["lifetime"] = {"units": "seconds", "value": _number(get("lifetime") or "3600")}
    elif member == "vpnservice":
        values["router_id"] = get("router_id")
    elif prefix == "local":
        values.update(type="subnet", endpoints=form.all("local-subnets"))
    else:
        text = form.get("peer-cidrs")
        values.update(type="cidr", endpoints=[c for c in re.split(r"[\s,]+", text) if c])
    return values


def create_connection(caller: Caller, form: Form) -> dict[str, Any]:
    """Create the inline objects, then the connection; undo on refusal."""
    values = connection_values(form, editing=False)
    created: list[tuple[str, str]] = []
    try:
        for select, member, prefix in INLINE:
            choice = form.get(select)
            if choice == NEW:
                try:
                    obj = caller.create(member, inline_values(caller, member, prefix, form))
                except errors.ApiError as exc:
                    raise _refusal(exc, select) from exc
                created.append((member, obj["id"]))
                choice = obj["id"]
            values[select] = choice or None
        try:
            return caller.create(CONNECTION, values)
        except errors.ApiError as exc:
            raise _refusal(exc, field_of(exc)) from exc
    except Exception:
        for member, obj_id in reversed(created):
            caller.delete(member, obj_id)
        raise


def _refusal(exc: errors.ApiError, field: str) -> Exception:
    """A bad value is shown in the form; not being allowed is the API's 403."""
    return exc if exc.status == 403 else Refused({field: exc.message})


def current_values(obj: dict[str, Any] | None, sent: dict[str, str]) -> dict[str, str]:
    """What each form field shows: what was sent, else the stored value (an
    edit), else nothing (the template's spec defaults apply)."""
    if sent:
        return {k: v for k, v in sent.items() if k != "psk"}
    if obj is None:
        return {}
    shown = {name: str(obj.get(name) or "") for name in TEXT}
    shown.update(
        mtu=str(obj["mtu"]),
        initiator=obj["initiator"],
        admin_state_up="true" if obj["admin_state_up"] else "false",
        dpd_action=obj["dpd"]["action"],
        dpd_interval=str(obj["dpd"]["interval"]),
        dpd_timeout=str(obj["dpd"]["timeout"]),
    )
    return shown


def form_choices(caller: Caller) -> dict[str, Any]:
    """What the form's select lists offer (visible objects, spec choices)."""
    rel = related(caller)
    return {
        "related": rel,
        "subnets": caller.items("subnet"),
        "routers": [r for r in rel["router"].values() if r.get("external_gateway_info")],
        "ike_res": caller.res("ikepolicy"),
        "ipsec_res": caller.res("ipsecpolicy"),
        "conn_res": caller.res(CONNECTION),
    }


def show_form(
    console: Console,
    req: falcon.Request,
    resp: falcon.Response,
    obj: dict[str, Any] | None,
    sent: dict[str, str],
    field_errors: dict[str, str],
    status: int = 200,
) -> None:
    """The form: empty (new), the stored connection (edit), or what was sent
    with the refusals beside their fields."""
    caller = console.caller(req)
    console.page(
        req,
        resp,
        "form.html",
        status,
        tab=tab_of(CONNECTION),
        obj=obj,
        current=current_values(obj, sent),
        errors=field_errors,
        **form_choices(caller),
    )


def may(caller: Caller, action: str, obj: dict[str, Any] | None = None) -> None:
    """403 unless the policy lets the caller ``action`` the connection."""
    if not caller.can(action, CONNECTION, obj):
        raise errors.PolicyNotAuthorized(action=f"{action}_{CONNECTION}")


class ConnectionNew:
    """``/ui/connections/new``."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        may(self.console.caller(req), "create")
        show_form(self.console, req, resp, None, {}, {})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        caller, form = self.console.caller(req), req.context.form
        may(caller, "create")
        try:
            obj = create_connection(caller, form)
        except Refused as exc:
            show_form(self.console, req, resp, None, dict(form.pairs), exc.errors, 400)
            return
        redirect(resp, f"/ui/connections/{obj['id']}?done=created")


class ConnectionEdit:
    """``/ui/connections/<id>/edit``: the attributes an update may change."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_get(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        caller = self.console.caller(req)
        obj = caller.get(CONNECTION, obj_id)
        may(caller, "update", obj)
        show_form(self.console, req, resp, obj, {}, {})

    def on_post(self, req: falcon.Request, resp: falcon.Response, obj_id: str) -> None:
        caller, form = self.console.caller(req), req.context.form
        obj = caller.get(CONNECTION, obj_id)
        may(caller, "update", obj)
        try:
            caller.update(CONNECTION, obj_id, connection_values(form, editing=True))
        except errors.ApiError as exc:
            if exc.status in (403, 404):
                raise
            sent, refused = dict(form.pairs), {field_of(exc): exc.message}
            show_form(self.console, req, resp, obj, sent, refused, 400)
            return
        redirect(resp, f"/ui/connections/{obj_id}?done=updated")
