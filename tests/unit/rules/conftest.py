"""A real vpnaas over SQLite and the topology the VPN rules read.

Each test module gets a fresh database with the app's own schema, the seeded
external network and, built through the API, this topology::

    public (external, seeded): 172.24.4.0/24, 2001:db8:24::/64
          |                                 |
          | gateway (v4 and v6)             | gateway (172.24.4.200 only)
       router (A)                        router_v4 (A)
          |          |                      |
       subnet     subnet_v6              subnet_r4
       10.10.0.0/24  2001:db8:c::/64     10.11.0.0/24
          |          |                      |
       network (A) -------------------------+
          |
       subnet_detached 10.13.0.0/24 (no router)
       bare_router (A): no gateway

       other_router (B): gateway - other_subnet 10.20.0.0/24 on other_network (B)

The rules are called directly, inside a write transaction of the app's
controller: :meth:`World.writing` opens it and hands over the rule
environment. This file is the one place the rules tests reach the
environment's type (:mod:`vpnaas.hooks`); the hook framework's own tests are
``tests/unit/hooks/``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from falcon import testing

from vpnaas.api import body
from vpnaas.app import Application, create_app
from vpnaas.context import RequestContext
from vpnaas.db.tables import schema
from vpnaas.hooks import RuleEnv
from vpnaas.settings import Settings, TopologySeed
from vpnaas.topology.seed import seed_external_network

HOSTS = "198.51.100.7 peer.example.test Peer-Alias\n2001:db8:77::7 peer6.example.test\n"
PROJECT_A = uuid.uuid4().hex
PROJECT_B = uuid.uuid4().hex


def connection_doc(service: str, ike: str, ipsec: str, **values: Any) -> dict[str, Any]:
    """A connection's attributes: its references, a peer that resolves
    (``HOSTS``) and ``values`` over them."""
    return {
        "vpnservice_id": service,
        "ikepolicy_id": ike,
        "ipsecpolicy_id": ipsec,
        "peer_address": "198.51.100.7",
        "peer_id": "peer",
        "psk": "secret",
        **values,
    }


class World:
    """The app, its topology's ids, and ways to call the API and the rules."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.client = testing.TestClient(app.wsgi)
        self.ids: dict[str, str] = {}

    def call(
        self,
        method: str,
        path: str,
        doc: dict[str, Any] | None = None,
        project: str = PROJECT_A,
        roles: str = "member,reader",
    ) -> dict[str, Any]:
        """An API call that must succeed; its answer."""
        headers = {"X-Project-Id": project, "X-Roles": roles}
        result = self.client.simulate_request(method, f"/v2.0/{path}", json=doc, headers=headers)
        assert result.status_code in (200, 201, 204), (path, result.text)
        answer: dict[str, Any] = result.json if result.text else {}
        return answer

    def make(self, path: str, member: str, project: str = PROJECT_A, **values: Any) -> str:
        """Create a ``member`` through the API; its id."""
        return str(self.call("POST", path, {member: values}, project)[member]["id"])

    def service(
        self, router: str = "router", subnet: str | None = None, project: str = PROJECT_A
    ) -> str:
        """A VPN service on ``router``, with ``subnet`` (legacy mode) or
        without (endpoint-group mode); both are names in :attr:`ids`."""
        values = {"router_id": self.ids[router]}
        if subnet is not None:
            values["subnet_id"] = self.ids[subnet]
        return self.make("vpn/vpnservices", "vpnservice", project, **values)

    def policies(self, project: str = PROJECT_A, **ipsec: Any) -> tuple[str, str]:
        """A new IKE policy and IPsec policy (``ipsec``: its attributes)."""
        ike = self.make("vpn/ikepolicies", "ikepolicy", project)
        return ike, self.make("vpn/ipsecpolicies", "ipsecpolicy", project, **ipsec)

    def group(self, group_type: str, *endpoints: str, project: str = PROJECT_A) -> str:
        """An endpoint group; ``subnet`` endpoints are names in :attr:`ids`."""
        if group_type == "subnet":
            endpoints = tuple(self.ids[e] for e in endpoints)
        return self.make(
            "vpn/endpoint-groups", "endpoint_group", project, type=group_type, endpoints=endpoints
        )

    def connection(
        self, service: str, ike: str, ipsec: str, project: str = PROJECT_A, **values: Any
    ) -> str:
        """A connection, legacy mode unless ``values`` say otherwise."""
        doc = connection_doc(service, ike, ipsec, **{"peer_cidrs": ["10.99.0.0/24"], **values})
        return self.make("vpn/ipsec-site-connections", "ipsec_site_connection", project, **doc)

    def ctx(self, project: str = PROJECT_A) -> RequestContext:
        return RequestContext(project_id=project, roles=frozenset({"member", "reader"}))

    def writing(self, project: str = PROJECT_A) -> AbstractContextManager[RuleEnv]:
        """A write transaction of the app as ``project`` and the rule
        environment over it (what the controller hands every hook)."""
        return self.app.controller.writing(self.ctx(project))

    def prepared(self, member: str, project: str = PROJECT_A, **values: Any) -> dict[str, Any]:
        """A new ``member`` as a create hook sees it: the body checked and
        completed with the spec's defaults, the owner and an id."""
        res = self.app.controller.catalog[member]
        obj = body.prepare_create(res, self.ctx(project), {member: values}).values
        return {"id": str(uuid.uuid4()), **obj}

    def stored(self, member: str, obj_id: str) -> dict[str, Any]:
        """The stored object, as an update or delete hook sees it."""
        ctx = RequestContext(project_id=None, is_admin=True)
        with self.app.controller.reading(ctx) as env:
            return env.lookup(member, obj_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app and topology per test module: tests add objects of their own
    and never change the topology's."""
    tmp_path = tmp_path_factory.mktemp("rules")
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS, encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/vpnaas.sqlite",
        peer_hosts_file=str(hosts),
        seed=TopologySeed(network_id=str(uuid.uuid4()), ipv6_cidr="2001:db8:24::/64"),
    )
    app = create_app(settings)
    schema().metadata.create_all(app.db.engine)
    public = seed_external_network(app.controller, settings.seed)
    assert public is not None
    w = World(app)
    try:
        _build(w, public)
        yield w
    finally:
        app.db.dispose()


def _build(w: World, public: str) -> None:
    ids = w.ids
    ids["public"] = public
    ids["network"] = w.make("networks", "network", name="net")
    for name, version, cidr in (
        ("subnet", 4, "10.10.0.0/24"),
        ("subnet_v6", 6, "2001:db8:c::/64"),
        ("subnet_detached", 4, "10.13.0.0/24"),
    ):
        ids[name] = w.make(
            "subnets", "subnet", network_id=ids["network"], ip_version=version, cidr=cidr
        )
    gateway = {"network_id": public}
    ids["router"] = w.make("routers", "router", name="r", external_gateway_info=gateway)
    for name in ("subnet", "subnet_v6"):
        path = f"routers/{ids['router']}/add_router_interface"
        w.call("PUT", path, {"subnet_id": ids[name]})
    v4_only = {"network_id": public, "external_fixed_ips": [{"ip_address": "172.24.4.200"}]}
    doc = {"router": {"name": "r4", "external_gateway_info": v4_only}}
    ids["router_v4"] = w.call("POST", "routers", doc, roles="admin,member,reader")["router"]["id"]
    ids["subnet_r4"] = w.make(
        "subnets", "subnet", network_id=ids["network"], ip_version=4, cidr="10.11.0.0/24"
    )
    w.call(
        "PUT", f"routers/{ids['router_v4']}/add_router_interface", {"subnet_id": ids["subnet_r4"]}
    )
    ids["bare_router"] = w.make("routers", "router", name="bare")
    ids["other_router"] = w.make(
        "routers", "router", PROJECT_B, name="b", external_gateway_info=gateway
    )
    ids["other_network"] = w.make("networks", "network", PROJECT_B, name="b-net")
    ids["other_subnet"] = w.make(
        "subnets",
        "subnet",
        PROJECT_B,
        network_id=ids["other_network"],
        cidr="10.20.0.0/24",
        ip_version=4,
    )
    path = f"routers/{ids['other_router']}/add_router_interface"
    w.call("PUT", path, {"subnet_id": ids["other_subnet"]}, PROJECT_B)
