"""Terraform's openstack provider (gophercloud) replayed on the wire.

The request bodies its five ``openstack_vpnaas_*`` resources send
(``docs/api/clients.md`` §terraform): the owner as ``tenant_id``, empty values omitted
(``omitempty``), ``admin_state_up`` always on service and connection create,
``dpd: {}`` and ``lifetime: {}`` when the block is absent, ``value_specs``
merged into the body as strings. Then what it reads back (JSON types
matter: gophercloud decodes into typed structs) and its polling: GET until
it succeeds after create/update, GET until **404** after delete.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.clients.conftest import Cloud, Identity
from tests.support.server import Response, ServerProcess

pytestmark = pytest.mark.slow

GOPHERCLOUD_HEADERS = {"User-Agent": "gophercloud/v2.8.0 terraform-provider-openstack/3.3.0"}


def unique(prefix: str) -> str:
    return f"tf-{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Gophercloud:
    """A gophercloud ``ServiceClient`` for the network endpoint."""

    cloud: Cloud
    identity: Identity

    @property
    def server(self) -> ServerProcess:
        return self.cloud.server

    def call(self, method: str, path: str, body: Any = None) -> Response:
        headers = {**GOPHERCLOUD_HEADERS, **self.cloud.headers(self.identity)}
        return self.server.request(method, "v2.0/" + path.lstrip("/"), body, headers=headers)

    def create(self, collection: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.call("POST", collection, {key: body})
        assert resp.status in (201, 202), (resp.status, resp.body)  # gophercloud's OkCodes
        item: dict[str, Any] = resp.body[key]
        self.poll_until_found(collection, item["id"])
        return item

    def get(self, collection: str, key: str, obj_id: str) -> dict[str, Any]:
        resp = self.call("GET", f"{collection}/{obj_id}")
        assert resp.status == 200, (resp.status, resp.body)
        item: dict[str, Any] = resp.body[key]
        return item

    def update(self, collection: str, key: str, obj_id: str, body: dict[str, Any]) -> Response:
        return self.call("PUT", f"{collection}/{obj_id}", {key: body})

    def poll_until_found(self, collection: str, obj_id: str) -> None:
        # waitFor*Creation: any GET success ends the wait (no ACTIVE needed)
        assert self.call("GET", f"{collection}/{obj_id}").status == 200

    def delete_and_wait(self, collection: str, obj_id: str) -> None:
        resp = self.call("DELETE", f"{collection}/{obj_id}")
        assert resp.status in (202, 204), (resp.status, resp.body)
        assert resp.body is None
        # waitFor*Deletion: GET until gophercloud sees ErrDefault404
        for _ in range(5):
            got = self.call("GET", f"{collection}/{obj_id}")
            if got.status == 404:
                assert got.error()["message"]
                return
            assert got.status == 200, (got.status, got.body)
        pytest.fail(f"{collection}/{obj_id} still there after delete")

    def list_all(self, collection: str, plural: str, query: str = "") -> list[dict[str, Any]]:
        """``pagination.LinkedPageBase``: follow ``<plural>_links`` rel=next."""
        items: list[dict[str, Any]] = []
        path = f"{collection}?{query}" if query else collection
        for _ in range(50):
            resp = self.call("GET", path)
            assert resp.status == 200, (resp.status, resp.body)
            items.extend(resp.body[plural])
            nxt = [
                link["href"]
                for link in resp.body.get(f"{plural}_links", [])
                if link["rel"] == "next"
            ]
            if not nxt:
                return items
            assert nxt[0].startswith(self.server.url + "v2.0/"), nxt
            path = nxt[0][len(self.server.url + "v2.0/") :]
        pytest.fail("paging never ended")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def member() -> Identity:
    return Identity.member()


@pytest.fixture(scope="module")
def tf(cloud: Cloud, member: Identity) -> Gophercloud:
    return Gophercloud(cloud, member)


@dataclass
class Topo:
    router_id: str
    subnet_id: str
    router2_id: str
    subnet2_id: str


@pytest.fixture(scope="module")
def topo(tf: Gophercloud, vpnaas_server: ServerProcess) -> Iterator[Topo]:
    public = vpnaas_server.public_network_id
    third = uuid.uuid4().int % 200 + 10
    net = tf.create("networks", "network", {"name": unique("net")})
    subs = [
        tf.create(
            "subnets",
            "subnet",
            {"network_id": net["id"], "cidr": f"10.{third}.{i}.0/24", "ip_version": 4},
        )
        for i in (1, 2)
    ]
    routers = [
        tf.create(
            "routers",
            "router",
            {"name": unique("rtr"), "external_gateway_info": {"network_id": public}},
        )
        for _ in (1, 2)
    ]
    for r, s in zip(routers, subs, strict=True):
        resp = tf.call("PUT", f"routers/{r['id']}/add_router_interface", {"subnet_id": s["id"]})
        assert resp.status == 200, resp.body
    yield Topo(routers[0]["id"], subs[0]["id"], routers[1]["id"], subs[1]["id"])
    for r, s in zip(routers, subs, strict=True):
        tf.call("PUT", f"routers/{r['id']}/remove_router_interface", {"subnet_id": s["id"]})
        tf.call("DELETE", f"routers/{r['id']}")
    tf.call("DELETE", f"networks/{net['id']}")


# ---------------------------------------------------------------- IKE / IPsec policies


def check_ike_policy(item: dict[str, Any]) -> None:
    for key in (
        "id",
        "name",
        "description",
        "tenant_id",
        "auth_algorithm",
        "encryption_algorithm",
        "pfs",
        "phase1_negotiation_mode",
        "ike_version",
    ):
        assert isinstance(item[key], str), key
    assert item["lifetime"]["units"] == "seconds"
    assert is_int(item["lifetime"]["value"])


def test_ike_policy_v2(tf: Gophercloud, member: Identity) -> None:
    name = unique("ike")
    # TF defaults filled in, owner as tenant_id, no lifetime block -> "lifetime": {}
    created = tf.create(
        "vpn/ikepolicies",
        "ikepolicy",
        {
            "tenant_id": member.project_id,
            "name": name,
            "auth_algorithm": "sha256",
            "encryption_algorithm": "aes-128",
            "pfs": "group5",
            "phase1_negotiation_mode": "main",
            "ike_version": "v1",
            "lifetime": {},
        },
    )
    check_ike_policy(created)
    assert created["tenant_id"] == member.project_id
    assert created["lifetime"] == {"units": "seconds", "value": 3600}
    resp = tf.update(
        "vpn/ikepolicies",
        "ikepolicy",
        created["id"],
        {"description": "d", "lifetime": {"value": 7000}},
    )
    assert resp.status == 200, resp.body  # gophercloud: OkCodes [200] only
    item = tf.get("vpn/ikepolicies", "ikepolicy", created["id"])
    check_ike_policy(item)
    assert item["lifetime"] == {"units": "seconds", "value": 7000}
    assert item["description"] == "d"
    resp = tf.update(
        "vpn/ikepolicies",
        "ikepolicy",
        created["id"],
        {"phase1_negotiation_mode": "aggressive", "ike_version": "v2", "pfs": "group14"},
    )
    assert resp.status == 200, resp.body
    # import by id
    assert tf.get("vpn/ikepolicies", "ikepolicy", created["id"])["ike_version"] == "v2"
    tf.delete_and_wait("vpn/ikepolicies", created["id"])


def test_ipsec_policy_v2(tf: Gophercloud) -> None:
    created = tf.create(
        "vpn/ipsecpolicies",
        "ipsecpolicy",
        {
            "name": unique("ipsec"),
            "auth_algorithm": "sha256",
            "encapsulation_mode": "tunnel",
            "encryption_algorithm": "aes-256",
            "pfs": "group14",
            "transform_protocol": "esp",
            "lifetime": {"units": "seconds", "value": 1200},
        },
    )
    for key in (
        "auth_algorithm",
        "encapsulation_mode",
        "encryption_algorithm",
        "pfs",
        "transform_protocol",
        "tenant_id",
        "description",
    ):
        assert isinstance(created[key], str), key
    assert created["lifetime"] == {"units": "seconds", "value": 1200}
    resp = tf.update(
        "vpn/ipsecpolicies", "ipsecpolicy", created["id"], {"lifetime": {"units": "seconds"}}
    )
    assert resp.status == 200, resp.body
    assert tf.get("vpn/ipsecpolicies", "ipsecpolicy", created["id"])["lifetime"] == {
        "units": "seconds",
        "value": 1200,
    }
    tf.delete_and_wait("vpn/ipsecpolicies", created["id"])


def test_policy_lifetime_kilobytes_rejected(tf: Gophercloud) -> None:
    """gophercloud offers ``UnitKilobytes``; the API accepts only seconds."""
    resp = tf.call(
        "POST",
        "vpn/ikepolicies",
        {"ikepolicy": {"lifetime": {"units": "kilobytes", "value": 4000}}},
    )
    assert resp.status == 400
    assert resp.error()["type"] in {"HTTPBadRequest", "InvalidInput"}


# ---------------------------------------------------------------- services


def test_service_v2(tf: Gophercloud, topo: Topo) -> None:
    # no subnet_id key at all when unset; admin_state_up always present
    created = tf.create(
        "vpn/vpnservices",
        "vpnservice",
        {"router_id": topo.router2_id, "admin_state_up": True, "name": unique("svc")},
    )
    assert created["subnet_id"] is None
    assert created["admin_state_up"] is True
    for key in ("status", "tenant_id", "router_id", "name", "description"):
        assert isinstance(created[key], str), key
    assert str(created["external_v4_ip"]).startswith("172.24.4.")
    assert "external_v6_ip" in created
    assert "flavor_id" in created
    resp = tf.update("vpn/vpnservices", "vpnservice", created["id"], {"admin_state_up": False})
    assert resp.status == 200, resp.body
    assert resp.body["vpnservice"]["admin_state_up"] is False
    tf.delete_and_wait("vpn/vpnservices", created["id"])

    legacy = tf.create(
        "vpn/vpnservices",
        "vpnservice",
        {"subnet_id": topo.subnet_id, "router_id": topo.router_id, "admin_state_up": False},
    )
    assert legacy["subnet_id"] == topo.subnet_id
    assert legacy["admin_state_up"] is False
    assert legacy["name"] == ""
    tf.delete_and_wait("vpn/vpnservices", legacy["id"])


def test_service_value_specs_flavor(tf: Gophercloud, topo: Topo) -> None:
    """``value_specs = {flavor_id = "..."}``: a flavor nobody has -> 404."""
    resp = tf.call(
        "POST",
        "vpn/vpnservices",
        {
            "vpnservice": {
                "router_id": topo.router_id,
                "admin_state_up": True,
                "flavor_id": str(uuid.uuid4()),
            }
        },
    )
    assert resp.status == 404, resp.body


# ---------------------------------------------------------------- endpoint groups


def test_endpoint_group_v2(tf: Gophercloud, topo: Topo) -> None:
    created = tf.create(
        "vpn/endpoint-groups",
        "endpoint_group",
        {"name": unique("epg"), "type": "cidr", "endpoints": ["10.11.0.0/24", "10.12.0.0/24"]},
    )
    assert created["endpoints"] == ["10.11.0.0/24", "10.12.0.0/24"]
    assert created["type"] == "cidr"
    assert isinstance(created["tenant_id"], str)
    resp = tf.update("vpn/endpoint-groups", "endpoint_group", created["id"], {"description": "x"})
    assert resp.status == 200, resp.body
    assert tf.get("vpn/endpoint-groups", "endpoint_group", created["id"])["description"] == "x"
    tf.delete_and_wait("vpn/endpoint-groups", created["id"])
    subnets = tf.create(
        "vpn/endpoint-groups", "endpoint_group", {"type": "subnet", "endpoints": [topo.subnet2_id]}
    )
    assert subnets["name"] == ""
    tf.delete_and_wait("vpn/endpoint-groups", subnets["id"])


# ---------------------------------------------------------------- site connections


@dataclass
class Vpn:
    service_id: str
    ep_service_id: str
    ike_id: str
    ipsec_id: str
    local_id: str
    peer_id: str


@pytest.fixture(scope="module")
def vpn(tf: Gophercloud, topo: Topo) -> Iterator[Vpn]:
    svc = tf.create(
        "vpn/vpnservices",
        "vpnservice",
        {"router_id": topo.router_id, "subnet_id": topo.subnet_id, "admin_state_up": True},
    )
    ep = tf.create(
        "vpn/vpnservices", "vpnservice", {"router_id": topo.router2_id, "admin_state_up": True}
    )
    ike = tf.create("vpn/ikepolicies", "ikepolicy", {"lifetime": {}})
    ipsec = tf.create("vpn/ipsecpolicies", "ipsecpolicy", {"lifetime": {}})
    local = tf.create(
        "vpn/endpoint-groups", "endpoint_group", {"type": "subnet", "endpoints": [topo.subnet2_id]}
    )
    peer = tf.create(
        "vpn/endpoint-groups", "endpoint_group", {"type": "cidr", "endpoints": ["10.99.0.0/24"]}
    )
    yield Vpn(svc["id"], ep["id"], ike["id"], ipsec["id"], local["id"], peer["id"])
    for collection, obj_id in (
        ("vpn/endpoint-groups", local["id"]),
        ("vpn/endpoint-groups", peer["id"]),
        ("vpn/ipsecpolicies", ipsec["id"]),
        ("vpn/ikepolicies", ike["id"]),
        ("vpn/vpnservices", ep["id"]),
        ("vpn/vpnservices", svc["id"]),
    ):
        tf.call("DELETE", f"{collection}/{obj_id}")


def check_connection(item: dict[str, Any]) -> None:
    for key in (
        "name",
        "description",
        "tenant_id",
        "initiator",
        "ikepolicy_id",
        "peer_id",
        "peer_address",
        "local_id",
        "vpnservice_id",
        "ipsecpolicy_id",
        "psk",
        "route_mode",
        "auth_mode",
        "status",
    ):
        assert isinstance(item[key], str), key
    assert isinstance(item["admin_state_up"], bool)
    assert is_int(item["mtu"])
    assert isinstance(item["peer_cidrs"], list)
    assert set(item["dpd"]) == {"action", "interval", "timeout"}
    assert is_int(item["dpd"]["interval"])
    assert is_int(item["dpd"]["timeout"])
    for key in ("local_ep_group_id", "peer_ep_group_id"):
        assert item[key] is None or isinstance(item[key], str), key


def test_site_connection_v2_legacy(tf: Gophercloud, vpn: Vpn, member: Identity) -> None:
    # the TF defaults: admin_state_up false, dpd {} (no block); no mtu/initiator keys
    created = tf.create(
        "vpn/ipsec-site-connections",
        "ipsec_site_connection",
        {
            "ikepolicy_id": vpn.ike_id,
            "vpnservice_id": vpn.service_id,
            "ipsecpolicy_id": vpn.ipsec_id,
            "peer_id": "172.24.4.233",
            "peer_address": "172.24.4.233",
            "psk": "secret",
            "peer_cidrs": ["10.20.0.0/24"],
            "admin_state_up": False,
            "dpd": {},
            "tenant_id": member.project_id,
        },
    )
    check_connection(created)
    assert created["dpd"] == {"action": "hold", "interval": 30, "timeout": 120}
    assert (created["mtu"], created["initiator"]) == (1500, "bi-directional")
    assert created["admin_state_up"] is False
    # update: only the changed attributes, dpd block with all three set
    resp = tf.update(
        "vpn/ipsec-site-connections",
        "ipsec_site_connection",
        created["id"],
        {"mtu": 1400, "dpd": {"action": "restart", "timeout": 60, "interval": 15}},
    )
    assert resp.status == 200, resp.body
    check_connection(resp.body["ipsec_site_connection"])
    item = tf.get("vpn/ipsec-site-connections", "ipsec_site_connection", created["id"])
    assert (item["mtu"], item["dpd"]) == (
        1400,
        {"action": "restart", "interval": 15, "timeout": 60},
    )
    resp = tf.update(
        "vpn/ipsec-site-connections",
        "ipsec_site_connection",
        created["id"],
        {"peer_cidrs": ["10.21.0.0/24", "10.22.0.0/24"], "psk": "new", "admin_state_up": True},
    )
    assert resp.status == 200, resp.body
    tf.delete_and_wait("vpn/ipsec-site-connections", created["id"])


def test_site_connection_v2_endpoint_groups(tf: Gophercloud, vpn: Vpn) -> None:
    created = tf.create(
        "vpn/ipsec-site-connections",
        "ipsec_site_connection",
        {
            "name": unique("conn"),
            "ikepolicy_id": vpn.ike_id,
            "vpnservice_id": vpn.ep_service_id,
            "ipsecpolicy_id": vpn.ipsec_id,
            "local_ep_group_id": vpn.local_id,
            "peer_ep_group_id": vpn.peer_id,
            "peer_id": "172.24.4.233",
            "peer_address": "172.24.4.233",
            "psk": "secret",
            "initiator": "bi-directional",
            "admin_state_up": True,
            "mtu": 1500,
            "dpd": {"action": "hold", "timeout": 120, "interval": 30},
        },
    )
    check_connection(created)
    assert created["peer_cidrs"] == []
    assert (created["local_ep_group_id"], created["peer_ep_group_id"]) == (
        vpn.local_id,
        vpn.peer_id,
    )
    tf.delete_and_wait("vpn/ipsec-site-connections", created["id"])


@pytest.mark.parametrize(
    "value_specs",
    [{"route_mode": "static"}, {"auth_mode": "psk"}],
    ids=["route_mode", "auth_mode"],
)
def test_site_connection_value_specs_rejected(
    tf: Gophercloud, vpn: Vpn, value_specs: dict[str, str]
) -> None:
    body = {
        "ikepolicy_id": vpn.ike_id,
        "vpnservice_id": vpn.service_id,
        "ipsecpolicy_id": vpn.ipsec_id,
        "peer_id": "172.24.4.233",
        "peer_address": "172.24.4.233",
        "psk": "secret",
        "peer_cidrs": ["10.30.0.0/24"],
        "admin_state_up": True,
        "dpd": {},
        **value_specs,
    }
    resp = tf.call("POST", "vpn/ipsec-site-connections", {"ipsec_site_connection": body})
    assert resp.status == 400, resp.body
    (attr,) = value_specs
    assert resp.error()["message"] == f"Attribute '{attr}' not allowed in POST"


def test_value_specs_strings(tf: Gophercloud, vpn: Vpn) -> None:
    """``value_specs`` is a map of strings: ``{mtu = 1400}`` arrives as
    ``"1400"`` (converted like the reference's ``convert_to_int``)."""
    body = {
        "ikepolicy_id": vpn.ike_id,
        "vpnservice_id": vpn.service_id,
        "ipsecpolicy_id": vpn.ipsec_id,
        "peer_id": "172.24.4.233",
        "peer_address": "172.24.4.233",
        "psk": "secret",
        "peer_cidrs": ["10.31.0.0/24"],
        "admin_state_up": True,
        "dpd": {},
        "mtu": "1400",
    }
    resp = tf.call("POST", "vpn/ipsec-site-connections", {"ipsec_site_connection": body})
    assert resp.status == 201, resp.body
    item = resp.body["ipsec_site_connection"]
    assert item["mtu"] == 1400
    tf.delete_and_wait("vpn/ipsec-site-connections", item["id"])


def test_admin_tenant_id_owner(cloud: Cloud, member: Identity) -> None:
    admin = Gophercloud(cloud, Identity.admin())
    created = admin.create(
        "vpn/ikepolicies", "ikepolicy", {"tenant_id": member.project_id, "lifetime": {}}
    )
    assert created["tenant_id"] == member.project_id
    assert created["project_id"] == member.project_id
    owner = Gophercloud(cloud, member)
    assert owner.get("vpn/ikepolicies", "ikepolicy", created["id"])["id"] == created["id"]
    admin.delete_and_wait("vpn/ikepolicies", created["id"])


def test_paging_links_are_followable(cloud: Cloud) -> None:
    tf = Gophercloud(cloud, Identity.member())
    ids = {
        tf.create(
            "vpn/endpoint-groups",
            "endpoint_group",
            {"type": "cidr", "endpoints": [f"10.40.{i}.0/24"]},
        )["id"]
        for i in range(3)
    }
    paged = tf.list_all("vpn/endpoint-groups", "endpoint_groups", "limit=1")
    assert sorted(g["id"] for g in paged) == sorted(ids)
    for obj_id in ids:
        tf.delete_and_wait("vpn/endpoint-groups", obj_id)


def test_deleted_elsewhere_reads_as_404(tf: Gophercloud) -> None:
    """``CheckDeleted``: a resource gone behind Terraform's back is a 404 on
    read (and on delete), never a 400/500."""
    missing = str(uuid.uuid4())
    for collection in (
        "vpn/ikepolicies",
        "vpn/ipsecpolicies",
        "vpn/vpnservices",
        "vpn/endpoint-groups",
        "vpn/ipsec-site-connections",
    ):
        assert tf.call("GET", f"{collection}/{missing}").status == 404, collection
        assert tf.call("DELETE", f"{collection}/{missing}").status == 404, collection
        resp = tf.call("PUT", f"{collection}/{missing}", {"x": {}})
        assert resp.status in (400, 404), collection
