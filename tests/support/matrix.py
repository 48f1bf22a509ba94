"""The authorization matrix: one table of who may do what, run in both auth modes.

Every row names a resource, an actor, an operation, the expected status and
the expected ``NeutronError`` type (``None`` on success). The same
:data:`ROWS` run against an in-process vpnaas in ``noauth`` mode (identity
headers, ``tests/functional/test_matrix.py``) and in ``keystone`` mode (real
tokens from a real Keystone, ``tests/keystone/test_matrix.py``): only the
headers each actor sends differ (:class:`World`).

Actors (each mode maps them to headers or tokens):

* ``owner``  — a member of project A, which owns the objects under test;
* ``reader`` — a reader-only user of project A;
* ``other``  — a member of project B;
* ``admin``  — an admin of project B (a cloud admin acting on A's objects);
* ``system`` — a system-scoped admin (no project).

Targets:

* ``own``      — project A's object; for ``create`` a body for project A
  (``project_id`` given) naming A's objects;
* ``ref``      — ``create`` only: a body in the caller's own project naming
  project A's objects (``docs/api/policy.md`` §references: looked up in
  the caller's scope; an admin acts across projects);
* ``external`` — the seeded external network / its IPv4 subnet (for
  ``create``: a subnet on the external network);
* ``gateway``  — the gateway port of A's router (project ``""``).

Expectations come from ``docs/api/policy.md`` §rules, §legacy, §visibility,
§not-found, §references, §scope, §outcomes and ``docs/api/ports.md``
§read-only. :func:`build` creates the objects as the owner: a network with a
subnet, a router with its gateway on the external network and an interface on
the subnet, an IKE and an IPsec policy, a VPN service, a local (``subnet``)
and a peer (``cidr``) endpoint group and a connection. ``update`` and
``delete`` rows on ``own`` act on a fresh object made for the row (a
"victim"), so rows are independent of each other and of their order.

A row whose ``known`` is set is a disagreement between vpnaas and the spec:
it is written as the spec says and runs as a strict ``xfail`` with the
reason, so fixing the server turns it into a failure that asks to drop the
mark.

:func:`run_policy_override` is the ``policy.yaml``-without-restart scenario
both modes run.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from tests.support.keystone import render_ini
from vpnaas.app import Application, create_app
from vpnaas.db.tables import schema
from vpnaas.settings import load
from vpnaas.topology.seed import seed_external_network

__all__ = [
    "ACTORS",
    "KINDS",
    "ROWS",
    "Kind",
    "PolicyFile",
    "Row",
    "World",
    "build",
    "noauth_headers",
    "params",
    "run_policy_override",
    "run_row",
    "serve",
]

OWNER, READER, OTHER, ADMIN, SYSTEM = "owner", "reader", "other", "admin", "system"
ACTORS = (OWNER, READER, OTHER, ADMIN, SYSTEM)
LIST, SHOW, CREATE, UPDATE, DELETE = "list", "show", "create", "update", "delete"
OPS = (LIST, SHOW, CREATE, UPDATE, DELETE)

PEER = "172.24.4.233"


@dataclass(frozen=True)
class Kind:
    """A resource as the wire shows it (spec-derived, not read from vpnaas)."""

    member: str
    collection: str
    path: str
    not_found: str


KINDS: dict[str, Kind] = {
    k.member: k
    for k in (
        Kind("network", "networks", "/v2.0/networks", "NetworkNotFound"),
        Kind("subnet", "subnets", "/v2.0/subnets", "SubnetNotFound"),
        Kind("router", "routers", "/v2.0/routers", "RouterNotFound"),
        Kind("port", "ports", "/v2.0/ports", "PortNotFound"),
        Kind("ikepolicy", "ikepolicies", "/v2.0/vpn/ikepolicies", "IKEPolicyNotFound"),
        Kind("ipsecpolicy", "ipsecpolicies", "/v2.0/vpn/ipsecpolicies", "IPsecPolicyNotFound"),
        Kind("vpnservice", "vpnservices", "/v2.0/vpn/vpnservices", "VPNServiceNotFound"),
        Kind(
            "endpoint_group",
            "endpoint_groups",
            "/v2.0/vpn/endpoint-groups",
            "VPNEndpointGroupNotFound",
        ),
        Kind(
            "ipsec_site_connection",
            "ipsec_site_connections",
            "/v2.0/vpn/ipsec-site-connections",
            "IPsecSiteConnectionNotFound",
        ),
    )
}
VPN = ("ikepolicy", "ipsecpolicy", "vpnservice", "endpoint_group", "ipsec_site_connection")


@dataclass(frozen=True)
class Row:
    """One expectation: ``actor`` does ``op`` on ``resource`` (``target``) and
    gets ``status`` with NeutronError type ``error``; a ``list`` row also
    says whether the target is in the list (``sees``)."""

    resource: str
    actor: str
    op: str
    status: int
    #: NeutronError type(s) (``A|B``: either), ``None`` on success
    error: str | None = None
    target: str = "own"
    sees: bool | None = None
    #: vpnaas answers otherwise (what it answers, and where the fix belongs)
    known: str | None = None

    @property
    def id(self) -> str:
        return f"{self.resource}-{self.target}-{self.actor}-{self.op}"


# --------------------------------------------------------------------- the table

PNA = "PolicyNotAuthorized"
HNF = "HTTPNotFound"
BAD = "HTTPBadRequest"
NOT_ALLOWED = "HTTPMethodNotAllowed"
PNF = "PortNotFound"
#: a token of the wrong scope (docs/api/policy.md §scope): neutron.policy.enforce
#: re-raises oslo.policy's InvalidScope, so the wire type is ``InvalidScope``.
SCOPE = "InvalidScope"


def _system(res: str, *, target: str = "own", ops: tuple[str, ...] = OPS) -> list[Row]:
    """A system-scoped token: 403 on every project-scoped rule
    (docs/api/policy.md §scope, §outcomes)."""
    return [Row(res, SYSTEM, op, 403, SCOPE, target=target) for op in ops]


def _vpn(res: str) -> list[Row]:
    """docs/api/policy.md §rules (new defaults), §not-found, §outcomes."""
    nf = KINDS[res].not_found
    return [
        Row(res, OWNER, LIST, 200, sees=True),
        Row(res, OWNER, SHOW, 200),
        Row(res, OWNER, CREATE, 201),
        Row(res, OWNER, UPDATE, 200),
        Row(res, OWNER, DELETE, 204),
        # reads need member: a reader's list is empty, show/update/delete 404
        Row(res, READER, LIST, 200, sees=False),
        Row(res, READER, SHOW, 404, HNF),
        Row(res, READER, CREATE, 403, PNA),
        Row(res, READER, UPDATE, 404, HNF),
        Row(res, READER, DELETE, 404, HNF),
        # another project: never sees it; naming project A in a body is a 400
        Row(res, OTHER, LIST, 200, sees=False),
        Row(res, OTHER, SHOW, 404, nf),
        Row(res, OTHER, CREATE, 400, BAD),
        Row(res, OTHER, UPDATE, 404, nf),
        Row(res, OTHER, DELETE, 404, nf),
        # an admin of another project: everything, and may create for project A
        Row(res, ADMIN, LIST, 200, sees=True),
        Row(res, ADMIN, SHOW, 200),
        Row(res, ADMIN, CREATE, 201),
        Row(res, ADMIN, UPDATE, 200),
        Row(res, ADMIN, DELETE, 204),
        *_system(res),
    ]


def _vpn_references() -> list[Row]:
    """A create in the caller's own project naming project A's objects
    (docs/api/policy.md §references; docs/api/vpn-services.md §create,
    docs/api/endpoint-groups.md §create, docs/api/ipsec-site-connections.md §create)."""
    return [
        Row("vpnservice", OTHER, CREATE, 404, "RouterNotFound", target="ref"),
        Row("vpnservice", ADMIN, CREATE, 201, target="ref"),
        Row(
            "endpoint_group",
            OTHER,
            CREATE,
            400,
            "NonExistingSubnetInEndpointGroup",
            target="ref",
        ),
        Row("endpoint_group", ADMIN, CREATE, 201, target="ref"),
        # the IPsec policy is looked up first (docs/api/ipsec-site-connections.md §create)
        Row("ipsec_site_connection", OTHER, CREATE, 404, "IPsecPolicyNotFound", target="ref"),
        Row("ipsec_site_connection", ADMIN, CREATE, 201, target="ref"),
    ]


def _topology(res: str) -> list[Row]:
    """Networks, subnets, routers of project A (docs/api/policy.md §rules,
    Neutron's secure-RBAC reader rules: a project reader sees, a denied write on a
    visible object is 403)."""
    nf = KINDS[res].not_found
    return [
        Row(res, OWNER, LIST, 200, sees=True),
        Row(res, OWNER, SHOW, 200),
        Row(res, OWNER, CREATE, 201),
        Row(res, OWNER, UPDATE, 200),
        Row(res, OWNER, DELETE, 204),
        Row(res, READER, LIST, 200, sees=True),
        Row(res, READER, SHOW, 200),
        Row(res, READER, CREATE, 403, PNA),
        Row(res, READER, UPDATE, 403, PNA),
        Row(res, READER, DELETE, 403, PNA),
        Row(res, OTHER, LIST, 200, sees=False),
        Row(res, OTHER, SHOW, 404, nf),
        Row(res, OTHER, CREATE, 400, BAD),
        Row(res, OTHER, UPDATE, 404, nf),
        Row(res, OTHER, DELETE, 404, nf),
        Row(res, ADMIN, LIST, 200, sees=True),
        Row(res, ADMIN, SHOW, 200),
        Row(res, ADMIN, CREATE, 201),
        Row(res, ADMIN, UPDATE, 200),
        Row(res, ADMIN, DELETE, 204),
        *_system(res),
    ]


def _external(res: str) -> list[Row]:
    """The seeded external network and its subnet: everyone reads them, only
    an admin writes (docs/api/policy.md §attribute-rules, §outcomes). The
    admin's delete is left out: it would take the external network away (or
    409 on its gateway ports)."""
    rows = []
    for actor in (OWNER, READER, OTHER):
        rows += [
            Row(res, actor, LIST, 200, target="external", sees=True),
            Row(res, actor, SHOW, 200, target="external"),
            Row(res, actor, UPDATE, 403, PNA, target="external"),
            Row(res, actor, DELETE, 403, PNA, target="external"),
        ]
    rows += [
        Row(res, ADMIN, LIST, 200, target="external", sees=True),
        Row(res, ADMIN, SHOW, 200, target="external"),
        Row(res, ADMIN, UPDATE, 200, target="external"),
        *_system(res, target="external", ops=(LIST, SHOW, UPDATE, DELETE)),
    ]
    return rows


def _subnet_references() -> list[Row]:
    """Subnet create naming a network the caller does not own
    (docs/api/subnets.md §create)."""
    return [
        Row("subnet", OTHER, CREATE, 404, "NetworkNotFound", target="ref"),
        Row("subnet", ADMIN, CREATE, 201, target="ref"),
        Row("subnet", OWNER, CREATE, 403, PNA, target="external"),
        Row("subnet", READER, CREATE, 403, PNA, target="external"),
        Row("subnet", OTHER, CREATE, 403, PNA, target="external"),
    ]


def _ports() -> list[Row]:
    """Ports are read-only (docs/api/ports.md §read-only: writes 405); a non-admin sees
    the ports of its project and those on its networks, so the gateway port
    (project ``""`` on the admin's network) only the admin
    (``docs/api/ports.md`` §visibility)."""
    rows = []
    for actor, visible in ((OWNER, True), (READER, True), (OTHER, False), (ADMIN, True)):
        show = Row("port", actor, SHOW, 200) if visible else Row("port", actor, SHOW, 404, PNF)
        rows += [Row("port", actor, LIST, 200, sees=visible), show]
        rows += [Row("port", actor, op, 405, NOT_ALLOWED) for op in (CREATE, UPDATE, DELETE)]
    rows += _system("port", ops=(LIST, SHOW))
    rows += [Row("port", SYSTEM, op, 405, NOT_ALLOWED) for op in (CREATE, UPDATE, DELETE)]
    for actor in (OWNER, READER, OTHER):
        rows += [
            Row("port", actor, LIST, 200, target="gateway", sees=False),
            Row("port", actor, SHOW, 404, PNF, target="gateway"),
        ]
    rows += [
        Row("port", ADMIN, LIST, 200, target="gateway", sees=True),
        Row("port", ADMIN, SHOW, 200, target="gateway"),
        *_system("port", target="gateway", ops=(LIST, SHOW)),
    ]
    return rows


ROWS: tuple[Row, ...] = (
    *(row for res in VPN for row in _vpn(res)),
    *_vpn_references(),
    *_topology("network"),
    *_external("network"),
    *_topology("subnet"),
    *_external("subnet"),
    *_subnet_references(),
    *_topology("router"),
    *_ports(),
)


def params(rows: tuple[Row, ...] = ROWS) -> list[Any]:
    """``pytest.param`` per row; known disagreements as strict xfails."""
    out = []
    for row in rows:
        marks = [pytest.mark.xfail(reason=row.known, strict=True)] if row.known else []
        out.append(pytest.param(row, id=row.id, marks=marks))
    return out


# ----------------------------------------------------------------------- serving


def serve(
    workdir: Path,
    *,
    auth_strategy: str = "noauth",
    sections: Mapping[str, Mapping[str, str]] | None = None,
    policy_file: Path | None = None,
) -> tuple[Application, str]:
    """An in-process vpnaas configured from an INI file in ``workdir`` (a
    private SQLite database, the external network seeded); the app and the
    external network's id. ``sections`` adds INI sections (``keystone_authtoken``)."""
    public = str(uuid.uuid4())
    config: dict[str, Mapping[str, str]] = {
        "DEFAULT": {"auth_strategy": auth_strategy},
        "database": {"connection": f"sqlite:///{workdir / 'vpnaas.sqlite'}"},
        "topology": {"external_network_id": public},
        "oslo_policy": {"policy_file": str(policy_file or workdir / "policy.yaml")},
        **(sections or {}),
    }
    ini = workdir / "vpnaas.conf"
    ini.write_text(render_ini(config), encoding="utf-8")
    settings = load([str(ini)])
    app = create_app(settings)
    schema().metadata.create_all(app.db.engine)
    seed_external_network(app.controller, settings.seed)
    return app, public


# ------------------------------------------------------------------------- world


def noauth_headers(project_a: str, project_b: str) -> dict[str, dict[str, str]]:
    """What each actor sends to a ``noauth`` vpnaas (what keystonemiddleware
    would set from its token)."""
    return {
        OWNER: {"X-Project-Id": project_a, "X-Roles": "member", "X-User-Id": "a-member"},
        READER: {"X-Project-Id": project_a, "X-Roles": "reader", "X-User-Id": "a-reader"},
        OTHER: {"X-Project-Id": project_b, "X-Roles": "member", "X-User-Id": "b-member"},
        ADMIN: {"X-Project-Id": project_b, "X-Roles": "admin", "X-User-Id": "b-admin"},
        SYSTEM: {"X-Roles": "admin", "X-User-Id": "admin", "OpenStack-System-Scope": "all"},
    }


def noauth_world(workdir: Path, *, policy_file: Path | None = None) -> World:
    """A world on an in-process ``noauth`` vpnaas (see :func:`serve`): two
    fresh projects, no objects yet."""
    app, public = serve(workdir, policy_file=policy_file)
    project_a, project_b = uuid.uuid4().hex, uuid.uuid4().hex
    return World(
        app=app,
        headers=noauth_headers(project_a, project_b),
        project_a=project_a,
        project_b=project_b,
        public_network=public,
    )


@dataclass
class World:
    """An app, how each actor authenticates, and the objects under test."""

    app: Application
    headers: Mapping[str, Mapping[str, str]]
    project_a: str
    project_b: str
    public_network: str
    objects: dict[str, str] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    client: testing.TestClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = testing.TestClient(self.app)

    def close(self) -> None:
        self.app.db.dispose()

    def call(
        self, actor: str, method: str, path: str, body: Any = None, **params: str
    ) -> testing.Result:
        return self.client.simulate_request(
            method,
            path,
            headers=dict(self.headers[actor]),
            json=body,
            params=params or None,
        )

    def expect(
        self, actor: str, method: str, path: str, status: int, body: Any = None, **params: str
    ) -> Any:
        """Call and insist on ``status``; the decoded body."""
        got = self.call(actor, method, path, body, **params)
        assert got.status_code == status, f"{actor} {method} {path}: {got.status} {got.text}"
        return got.json if got.text else None

    # -- bodies --------------------------------------------------------------

    def body(self, res: str, target: str = "own") -> dict[str, Any]:
        """A valid create body for ``res`` (see the module docstring for targets)."""
        o = self.objects
        n = next(self.counter)
        name = f"{res}-{n}"
        attrs: dict[str, Any]
        if res == "network":
            attrs = {"name": name}
        elif res == "subnet":
            assert n < 140
            network = self.public_network if target == "external" else o["network"]
            attrs = {"name": name, "network_id": network, "ip_version": 4}
            attrs["cidr"] = f"10.{110 + n}.0.0/24"
        elif res in ("router", "ikepolicy", "ipsecpolicy", "port"):
            attrs = {"name": name}
        elif res == "vpnservice":
            attrs = {"name": name, "router_id": o["router"]}
        elif res == "endpoint_group":
            attrs = {"name": name, "type": "cidr", "endpoints": [f"10.201.{n % 250}.0/24"]}
            if target == "ref":
                attrs.update(type="subnet", endpoints=[o["subnet"]])
        elif res == "ipsec_site_connection":
            attrs = {
                "name": name,
                "vpnservice_id": o["vpnservice"],
                "ikepolicy_id": o["ikepolicy"],
                "ipsecpolicy_id": o["ipsecpolicy"],
                "local_ep_group_id": o["endpoint_group"],
                "peer_ep_group_id": o["peer_endpoint_group"],
                "peer_address": PEER,
                "peer_id": PEER,
                "psk": "secret",
            }
        else:
            raise AssertionError(f"no body for {res}")
        if target == "own":
            attrs["project_id"] = self.project_a
        return {KINDS[res].member: attrs}

    def make(self, res: str, actor: str = OWNER) -> str:
        """A fresh object of project A (a victim for an update or delete row)."""
        kind = KINDS[res]
        got = self.expect(actor, "POST", kind.path, 201, self.body(res))
        return str(got[kind.member]["id"])

    def target_id(self, row: Row) -> str:
        if row.target == "external":
            return self.objects[f"external_{row.resource}"]
        if row.target == "gateway":
            return self.objects["gateway_port"]
        return self.objects[row.resource]


def build(world: World) -> World:
    """Create project A's objects as its member (see the module docstring)."""
    o = world.objects
    o["network"] = world.make("network")
    subnet = world.body("subnet")
    subnet["subnet"].update(cidr="10.100.0.0/24", gateway_ip="10.100.0.1")
    o["subnet"] = world.expect(OWNER, "POST", "/v2.0/subnets", 201, subnet)["subnet"]["id"]
    router = {
        "router": {
            "name": "router-a",
            "external_gateway_info": {"network_id": world.public_network},
        }
    }
    o["router"] = world.expect(OWNER, "POST", "/v2.0/routers", 201, router)["router"]["id"]
    iface = world.expect(
        OWNER,
        "PUT",
        f"/v2.0/routers/{o['router']}/add_router_interface",
        200,
        {"subnet_id": o["subnet"]},
    )
    o["port"] = iface["port_id"]
    ports = world.expect(ADMIN, "GET", "/v2.0/ports", 200, device_id=o["router"])["ports"]
    (gateway,) = [p for p in ports if p["device_owner"] == "network:router_gateway"]
    o["gateway_port"] = gateway["id"]
    o["external_network"] = world.public_network
    subnets = world.expect(
        ADMIN, "GET", "/v2.0/subnets", 200, network_id=world.public_network, ip_version="4"
    )["subnets"]
    o["external_subnet"] = subnets[0]["id"]
    for res in ("ikepolicy", "ipsecpolicy", "vpnservice"):
        o[res] = world.make(res)
    local = {"endpoint_group": {"name": "local", "type": "subnet", "endpoints": [o["subnet"]]}}
    o["endpoint_group"] = world.expect(OWNER, "POST", "/v2.0/vpn/endpoint-groups", 201, local)[
        "endpoint_group"
    ]["id"]
    o["peer_endpoint_group"] = world.make("endpoint_group")
    o["ipsec_site_connection"] = world.make("ipsec_site_connection")
    return world


# ------------------------------------------------------------------------ runner


def _check_error(row: Row, got: testing.Result, what: str) -> None:
    assert got.status_code == row.status, f"{what}: {got.status} {got.text}"
    if row.error is not None:
        error = got.json.get("NeutronError") if isinstance(got.json, dict) else None
        assert error is not None, f"{what}: {got.text}"
        assert error["type"] in row.error.split("|"), f"{what}: {got.text}"


def run_row(world: World, row: Row) -> None:
    """Do what the row says and check the answer."""
    kind = KINDS[row.resource]
    what = f"{row.id}"
    if row.op == LIST:
        wanted = world.target_id(row)
        got = world.call(row.actor, "GET", kind.path)
        _check_error(row, got, what)
        if row.status == 200:
            ids = {obj["id"] for obj in got.json[kind.collection]}
            assert (wanted in ids) is row.sees, f"{what}: {wanted} in {sorted(ids)}"
    elif row.op == SHOW:
        wanted = world.target_id(row)
        got = world.call(row.actor, "GET", f"{kind.path}/{wanted}")
        _check_error(row, got, what)
        if row.status == 200:
            assert got.json[kind.member]["id"] == wanted
    elif row.op == CREATE:
        body = world.body(row.resource, row.target)
        got = world.call(row.actor, "POST", kind.path, body)
        _check_error(row, got, what)
        if row.status == 201:
            owner = body[kind.member].get("project_id", world.project_b)
            assert got.json[kind.member]["project_id"] == owner, got.text
    elif row.op == UPDATE:
        obj_id = _victim(world, row)
        name = f"renamed-by-{row.actor}"
        got = world.call(row.actor, "PUT", f"{kind.path}/{obj_id}", {kind.member: {"name": name}})
        _check_error(row, got, what)
        if row.status == 200:
            assert got.json[kind.member]["name"] == name
    elif row.op == DELETE:
        obj_id = _victim(world, row)
        got = world.call(row.actor, "DELETE", f"{kind.path}/{obj_id}")
        _check_error(row, got, what)
        after = world.call(ADMIN, "GET", f"{kind.path}/{obj_id}")
        assert after.status_code == (404 if row.status == 204 else 200), after.text
    else:
        raise AssertionError(f"unknown operation {row.op}")


def _victim(world: World, row: Row) -> str:
    if row.target != "own" or row.resource == "port":
        return world.target_id(row)
    return world.make(row.resource)


# ---------------------------------------------------------------- policy override


class PolicyFile:
    """``[oslo_policy] policy_file``, rewritten while the server runs.

    oslo.policy reloads the file when its mtime grows; two writes within one
    tick of a coarse file-system clock would share an mtime, so each write
    moves the mtime one second past the previous one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime_ns = 0

    def write(self, rules: Mapping[str, str]) -> None:
        text = "".join(f'"{name}": "{check}"\n' for name, check in rules.items()) or "{}\n"
        self.path.write_text(text, encoding="utf-8")
        self._mtime_ns = max(time.time_ns(), self._mtime_ns + 1_000_000_000)
        os.utime(self.path, ns=(self._mtime_ns, self._mtime_ns))


def _ids(world: World, actor: str, res: str) -> set[str]:
    kind = KINDS[res]
    return {o["id"] for o in world.expect(actor, "GET", kind.path, 200)[kind.collection]}


def _error(got: testing.Result, status: int, error: str, message: str | None = None) -> None:
    assert got.status_code == status, f"{got.status} {got.text}"
    assert got.json["NeutronError"]["type"] == error, got.text
    if message is not None:
        assert got.json["NeutronError"]["message"] == message, got.text


def run_policy_override(world: World, policy: PolicyFile) -> None:
    """``policy.yaml`` edits take effect on the next request (no restart), the
    list cache never serves a stale authorization, and a rule that allows GET
    but not PUT/DELETE answers 403 rather than 404 (docs/api/policy.md §not-found)."""
    ike = KINDS["ikepolicy"]
    policy.write({})
    first = world.make("ikepolicy")

    # only admins may create IKE policies
    policy.write({"create_ikepolicy": "rule:admin_only"})
    got = world.call(OWNER, "POST", ike.path, world.body("ikepolicy"))
    _error(got, 403, "PolicyNotAuthorized", "rule:create_ikepolicy is disallowed by policy")
    world.make("ikepolicy", actor=ADMIN)

    # reads: a cached list must not outlive the rule that built it
    assert first in _ids(world, OWNER, "ikepolicy")
    assert first in _ids(world, OWNER, "ikepolicy")  # now served from the cache
    policy.write({"get_ikepolicy": "rule:admin_only"})
    assert _ids(world, OWNER, "ikepolicy") == set()
    _error(world.call(OWNER, "GET", f"{ike.path}/{first}"), 404, "HTTPNotFound")
    assert first in _ids(world, ADMIN, "ikepolicy")
    # the default is back for creates: the member may create again
    world.make("ikepolicy")

    # visible but not writable: 403, not 404
    policy.write({"update_ikepolicy": "rule:admin_only", "delete_ikepolicy": "rule:admin_only"})
    assert first in _ids(world, OWNER, "ikepolicy")
    got = world.call(OWNER, "PUT", f"{ike.path}/{first}", {"ikepolicy": {"name": "nope"}})
    _error(got, 403, "PolicyNotAuthorized", "rule:update_ikepolicy is disallowed by policy")
    got = world.call(OWNER, "DELETE", f"{ike.path}/{first}")
    _error(got, 403, "PolicyNotAuthorized", "rule:delete_ikepolicy is disallowed by policy")

    # the same for a topology resource: hide A's networks from its own member
    network = world.make("network")
    policy.write({"get_network": "rule:admin_only"})
    assert network not in _ids(world, OWNER, "network")
    assert world.public_network not in _ids(world, OWNER, "network")
    _error(world.call(OWNER, "GET", f"/v2.0/networks/{network}"), 404, "HTTPNotFound")
    assert network in _ids(world, ADMIN, "network")

    # back to the defaults
    policy.write({})
    assert network in _ids(world, OWNER, "network")
    world.expect(OWNER, "PUT", f"{ike.path}/{first}", 200, {"ikepolicy": {"name": "renamed"}})
    world.expect(OWNER, "DELETE", f"{ike.path}/{first}", 204)
