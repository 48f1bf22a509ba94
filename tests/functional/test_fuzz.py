"""Property: no request, however malformed, gets a 5xx.

Random bodies (right and wrong attribute names, values of every JSON type)
and random query strings go to every collection, member and action, as an
owner, another project, a reader and an admin. Every answer must be a
NeutronError document with a 4xx status, or a success.
"""

from __future__ import annotations

import os
import string
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from falcon import testing
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support import databases
from vpnaas.app import Application, create_app
from vpnaas.db.tables import schema
from vpnaas.settings import Settings, TopologySeed
from vpnaas.spec import catalog
from vpnaas.topology.seed import seed_external_network

CAT = catalog()
ATTRIBUTES = sorted(
    {n for r in CAT.resources for n in r.wire_names}
    | {"units", "value", "action", "interval", "timeout", "start", "end"}
)
PARAMS = sorted(
    {
        *ATTRIBUTES,
        "fields",
        "sort_key",
        "sort_dir",
        "limit",
        "marker",
        "page_reverse",
        "endpoint_type",
        "bogus",
    }
)
HEADERS = [
    {"X-Project-Id": "p-a"},
    {"X-Project-Id": "p-b", "X-Roles": "reader"},
    {"X-Project-Id": "p-a", "X-Roles": "admin"},
    {},
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "10.0.0.0/24",
            "2001:db8::/64",
            "10.0.0.1",
            "sha1",
            "aes-128",
            "cidr",
            "subnet",
            "hold",
            "group5",
            "seconds",
            "",
            " x",
            "\x00",
            "0",
            "1",
        ]
    ),
    st.just(str(uuid.uuid4())),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(ATTRIBUTES), inner, max_size=3),
    ),
    max_leaves=6,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(ATTRIBUTES), values, max_size=6),
    values,
)
query_pairs = st.lists(
    st.tuples(
        st.sampled_from(PARAMS),
        st.one_of(
            st.text(max_size=8),
            st.sampled_from(["asc", "desc", "1", "-1", "true", "name", "id", "x"]),
        ),
    ),
    max_size=5,
)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite, or a fresh database on ``VPNAAS_TEST_DATABASE_URL``'s server."""
    server_url = os.environ.get("VPNAAS_TEST_DATABASE_URL")
    if server_url:
        with databases.fresh_database(server_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz-db')}/fuzz.sqlite"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[testing.TestClient]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(
        database_url=database_url,
        peer_hosts_file=str(tmp / "hosts"),
        seed=TopologySeed(),
    )
    (tmp / "hosts").write_text("198.51.100.7 peer.example.test\n")
    app: Application = create_app(settings_)
    schema().metadata.create_all(app.db.engine)
    seed_external_network(app.controller, settings_.seed)
    yield testing.TestClient(app)
    app.db.dispose()


@pytest.fixture(scope="module")
def paths(client: testing.TestClient) -> list[str]:
    """Every route, with ids of objects that exist when the module starts
    (drawn once: the requests themselves create objects)."""
    return _paths(client)


def _paths(client: testing.TestClient) -> list[str]:
    paths = ["/", "/v2.0/", "/v2.0/extensions", "/v2.0/extensions/vpnaas"]
    for res in CAT.resources:
        paths.append(f"/v2.0{res.path}")
        listed = client.simulate_get(f"/v2.0{res.path}").json[res.collection]
        ids = [o["id"] for o in listed[:2]] or [str(uuid.uuid4())]
        paths.extend(f"/v2.0{res.path}/{i}" for i in ids)
        for action in res.actions:
            paths.extend(f"/v2.0{res.path}/{i}/{action}" for i in ids)
    return paths


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        doc = response.json
        assert set(doc["NeutronError"]) == {"type", "message", "detail"}, doc


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    body=bodies,
    pairs=query_pairs,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    headers=st.sampled_from(HEADERS),
    wrap=st.booleans(),
)
def test_no_request_gets_a_server_error(
    client: testing.TestClient,
    paths: list[str],
    data: st.DataObject,
    body: Any,
    pairs: list[tuple[str, str]],
    method: str,
    headers: dict[str, str],
    wrap: bool,
) -> None:
    path = data.draw(st.sampled_from(paths))
    member = next((r.member for r in CAT.resources if f"/v2.0{r.path}" in path), "x")
    document = {member: body} if wrap and "_interface" not in path else body
    raw = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS) if _encodable(document) else b"{"
    response = client.simulate_request(
        method,
        path,
        body=raw,
        query_string=urlencode(pairs),
        headers={"Content-Type": "application/json", **headers},
    )
    _check(response)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.binary(max_size=64) | st.text(alphabet=string.printable, max_size=64).map(str.encode),
    path=st.sampled_from([f"/v2.0{r.path}" for r in CAT.resources]),
)
def test_garbage_bodies_are_400(client: testing.TestClient, raw: bytes, path: str) -> None:
    _check(client.simulate_post(path, body=raw, headers={"X-Project-Id": "p-a"}))


def _encodable(document: Any) -> bool:
    try:
        orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return True


@pytest.fixture(scope="module")
def templates(client: testing.TestClient) -> dict[str, dict[str, Any]]:
    """A valid create body per resource, referencing real objects."""
    h = {"X-Project-Id": "p-a"}

    def make(path: str, member: str, body: dict[str, Any]) -> str:
        response = client.simulate_post(path, json={member: body}, headers=h)
        assert response.status_code == 201, response.text
        return str(response.json[member]["id"])

    external = client.simulate_get("/v2.0/networks", query_string="router:external=true")
    public = external.json["networks"][0]["id"]
    net = make("/v2.0/networks", "network", {"name": "n"})
    sub = make(
        "/v2.0/subnets", "subnet", {"network_id": net, "cidr": "10.9.0.0/24", "ip_version": 4}
    )
    router = make("/v2.0/routers", "router", {"external_gateway_info": {"network_id": public}})
    client.simulate_put(
        f"/v2.0/routers/{router}/add_router_interface", json={"subnet_id": sub}, headers=h
    )
    svc = make("/v2.0/vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": sub})
    svc2 = make("/v2.0/vpn/vpnservices", "vpnservice", {"router_id": router})
    ike = make("/v2.0/vpn/ikepolicies", "ikepolicy", {})
    ipsec = make("/v2.0/vpn/ipsecpolicies", "ipsecpolicy", {})
    local = make(
        "/v2.0/vpn/endpoint-groups", "endpoint_group", {"type": "subnet", "endpoints": [sub]}
    )
    peer = make(
        "/v2.0/vpn/endpoint-groups",
        "endpoint_group",
        {"type": "cidr", "endpoints": ["10.20.0.0/24"]},
    )
    conn = {
        "vpnservice_id": svc,
        "ikepolicy_id": ike,
        "ipsecpolicy_id": ipsec,
        "peer_address": "172.24.4.50",
        "peer_id": "p",
        "psk": "k",
        "peer_cidrs": ["10.30.0.0/24"],
        "dpd": {"interval": 10},
        "lifetime": None,
    }
    conn.pop("lifetime")
    return {
        "network": {"name": "x", "mtu": 1400},
        "subnet": {
            "network_id": net,
            "cidr": "10.9.1.0/24",
            "ip_version": 4,
            "allocation_pools": [{"start": "10.9.1.10", "end": "10.9.1.20"}],
            "host_routes": [{"destination": "10.0.0.0/8", "nexthop": "10.9.1.1"}],
        },
        "router": {"external_gateway_info": {"network_id": public}, "admin_state_up": False},
        "ikepolicy": {"lifetime": {"value": 100}},
        "ipsecpolicy": {"transform_protocol": "ah-esp"},
        "vpnservice": {"router_id": router, "subnet_id": sub},
        "endpoint_group": {"type": "subnet", "endpoints": [sub]},
        "ipsec_site_connection": conn,
        "ipsec_site_connection_groups": {
            **conn,
            "vpnservice_id": svc2,
            "peer_cidrs": [],
            "local_ep_group_id": local,
            "peer_ep_group_id": peer,
        },
    }


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), headers=st.sampled_from(HEADERS[:3]))
def test_mutated_valid_bodies_never_get_a_server_error(
    client: testing.TestClient,
    templates: dict[str, dict[str, Any]],
    data: st.DataObject,
    headers: dict[str, str],
) -> None:
    name = data.draw(st.sampled_from(sorted(templates)))
    member = name.removesuffix("_groups")
    res = CAT[member]
    body = dict(templates[name])
    for _ in range(data.draw(st.integers(min_value=0, max_value=2))):
        key = data.draw(st.sampled_from(sorted({*res.wire_names, *body})))
        if data.draw(st.booleans()) and key in body:
            del body[key]
        else:
            body[key] = data.draw(values)
    response = client.simulate_post(
        f"/v2.0{res.path}",
        json={member: body},
        headers={"Content-Type": "application/json", **headers},
    )
    _check(response)
    event(f"{name}: {response.status_code}")
    if response.status_code == 201:
        created = response.json[member]["id"]
        update = {k: v for k, v in body.items() if k in res.by_name and res.field(k).update}
        _check(
            client.simulate_put(
                f"/v2.0{res.path}/{created}", json={member: update}, headers=headers
            )
        )
        _check(client.simulate_delete(f"/v2.0{res.path}/{created}", headers=headers))
