"""Lists read straight into their wire form are byte for byte the lists
built through objects (``docs/api/common.md`` §list, §filters, §sorting,
§paging, §fields).

A list without ``fields`` is read into one dict per row
(``Controller.direct_lists``, the default); with it off, the same list is
built as ``show`` builds an answer: an object per row, then its wire form.
Two apps over one database, the one with direct lists and the one without,
both without a response cache, answer the same requests: every resource,
rich data (composites, list attributes, computed attributes, hidden ones,
nulls, booleans both ways, a sealed psk, non-ASCII text), every kind of
caller, filters, sorting and paging. On SQLite, and on PostgreSQL and
MariaDB when the database suite sets ``VPNAAS_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from falcon import testing

from tests.support import databases
from tests.support.matrix import ADMIN, OTHER, OWNER, READER, SYSTEM, noauth_headers
from vpnaas.app import create_agent_app, create_app
from vpnaas.db.secrets import generate_key
from vpnaas.db.tables import schema
from vpnaas.settings import AgentAPIOptions, Settings, TopologySeed
from vpnaas.spec import catalog
from vpnaas.topology.seed import seed_external_network

SERVER_URL_ENV = "VPNAAS_TEST_DATABASE_URL"
#: the caller without identity headers: ``noauth``'s admin
NOBODY = "nobody"
CALLERS = (OWNER, READER, OTHER, ADMIN, SYSTEM, NOBODY)
#: callers whose lists are also filtered on every value they show
FILTERING = (OWNER, SYSTEM)
CAT = catalog()


@dataclass
class World:
    """The app under test, the app it is compared with, and who calls."""

    direct: testing.TestClient
    general: testing.TestClient
    agents: testing.TestClient
    headers: dict[str, dict[str, str]]
    made: dict[str, str] = field(default_factory=dict)

    def make(self, caller: str, path: str, member: str, body: dict[str, Any]) -> str:
        got = self.direct.simulate_post(
            f"/v2.0{path}", json={member: body}, headers=self.headers[caller]
        )
        assert got.status_code == 201, f"{member}: {got.text}"
        return str(got.json[member]["id"])

    def put(self, caller: str, path: str, body: dict[str, Any]) -> None:
        got = self.direct.simulate_put(f"/v2.0{path}", json=body, headers=self.headers[caller])
        assert got.status_code == 200, got.text

    def both(self, caller: str, path: str, query: str) -> tuple[testing.Result, testing.Result]:
        """The same list from both apps."""
        headers = self.headers[caller]
        return (
            self.direct.simulate_get(path, query_string=query, headers=headers),
            self.general.simulate_get(path, query_string=query, headers=headers),
        )


@pytest.fixture(params=[False, True], ids=["plain-psk", "sealed-psk"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    server_url = os.environ.get(SERVER_URL_ENV)
    if server_url:
        with databases.fresh_database(server_url) as url:
            yield from _world(url, sealed=request.param)
    else:
        yield from _world(f"sqlite:///{tmp_path / 'vpnaas.sqlite'}", sealed=request.param)


def _world(url: str, *, sealed: bool) -> Iterator[World]:
    public = str(uuid.uuid4())
    settings = Settings(
        database_url=url,
        driver="strongswan",
        response_cache=False,
        seed=TopologySeed(network_id=public),
        agent_api=AgentAPIOptions(agent_down_time=30),
        secret_keys=(generate_key(),) if sealed else (),
    )
    direct, general = create_app(settings), create_app(settings)
    general.controller.direct_lists = False
    agent_app = create_agent_app(settings)
    schema().metadata.create_all(direct.db.engine)
    seed_external_network(direct.controller, settings.seed)
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    headers = {**noauth_headers(a, b), NOBODY: {}}
    world = World(
        testing.TestClient(direct),
        testing.TestClient(general),
        testing.TestClient(agent_app),
        {k: dict(v) for k, v in headers.items()},
    )
    try:
        _build(world, public, b, sealed=sealed)
        yield world
    finally:
        agent_app.close()
        direct.db.dispose()
        general.db.dispose()


def _build(w: World, public: str, project_b: str, *, sealed: bool) -> None:
    """Objects of two projects with every kind of value (see the module docstring)."""
    m = w.made
    m["net"] = w.make(OWNER, "/networks", "network", {"name": "net-a", "mtu": 1400})
    m["subnet"] = w.make(
        OWNER,
        "/subnets",
        "subnet",
        {
            "network_id": m["net"],
            "cidr": "10.1.0.0/24",
            "ip_version": 4,
            "name": "sub-a",
            "enable_dhcp": False,
            "dns_nameservers": ["10.1.0.3", "10.1.0.2"],
            "host_routes": [{"destination": "10.9.0.0/16", "nexthop": "10.1.0.254"}],
        },
    )
    w.make(
        OWNER,
        "/subnets",
        "subnet",
        {"network_id": m["net"], "cidr": "2001:db8:a::/64", "ip_version": 6, "gateway_ip": None},
    )
    shared = w.make(
        ADMIN,
        "/networks",
        "network",
        {"name": "shared-b", "shared": True, "project_id": project_b},
    )
    w.make(
        OTHER,
        "/subnets",
        "subnet",
        {"network_id": shared, "cidr": "10.50.0.0/24", "ip_version": 4, "name": "sub-b"},
    )
    gateway = {"external_gateway_info": {"network_id": public}}
    m["router"] = w.make(OWNER, "/routers", "router", {"name": "r-a", **gateway})
    w.put(OWNER, f"/routers/{m['router']}/add_router_interface", {"subnet_id": m["subnet"]})
    w.make(OWNER, "/routers", "router", {"name": "r-idle", "admin_state_up": False})
    w.make(OTHER, "/routers", "router", {"name": "r-b", **gateway})
    ike = w.make(
        OWNER,
        "/vpn/ikepolicies",
        "ikepolicy",
        {
            "name": "ike-\u00e9\u2713",
            "description": 'say "hi" \\ <b>',
            "lifetime": {"value": 7200},
            "ike_version": "v2",
        },
    )
    w.make(OWNER, "/vpn/ikepolicies", "ikepolicy", {"name": "ike-plain"})
    w.make(OTHER, "/vpn/ikepolicies", "ikepolicy", {"name": "ike-b"})
    ipsec = w.make(
        OWNER,
        "/vpn/ipsecpolicies",
        "ipsecpolicy",
        {"name": "ipsec-a", "pfs": "group14", "lifetime": {"units": "seconds", "value": 1800}},
    )
    legacy = w.make(
        OWNER,
        "/vpn/vpnservices",
        "vpnservice",
        {"name": "svc-legacy", "router_id": m["router"], "subnet_id": m["subnet"]},
    )
    grouped = w.make(
        OWNER,
        "/vpn/vpnservices",
        "vpnservice",
        {"name": "svc-groups", "router_id": m["router"], "admin_state_up": False},
    )
    local = w.make(
        OWNER,
        "/vpn/endpoint-groups",
        "endpoint_group",
        {"name": "local", "type": "subnet", "endpoints": [m["subnet"]]},
    )
    peer = w.make(
        OWNER,
        "/vpn/endpoint-groups",
        "endpoint_group",
        {"name": "peer", "type": "cidr", "endpoints": ["10.31.0.0/24", "10.30.0.0/24"]},
    )
    common = {"ikepolicy_id": ike, "ipsecpolicy_id": ipsec, "peer_address": "172.24.4.9"}
    m["conn"] = w.make(
        OWNER,
        "/vpn/ipsec-site-connections",
        "ipsec_site_connection",
        {
            **common,
            "name": "legacy",
            "vpnservice_id": legacy,
            "peer_id": "@peer",
            "local_id": "@local",
            "peer_cidrs": ["10.21.0.0/24", "10.20.0.0/24"],
            "dpd": {"action": "restart", "interval": 10, "timeout": 50},
            "psk": "s3cret-\u00e9",
        },
    )
    w.make(
        OWNER,
        "/vpn/ipsec-site-connections",
        "ipsec_site_connection",
        {
            **common,
            "name": "groups",
            "vpnservice_id": grouped,
            "peer_id": "172.24.4.9",
            "local_ep_group_id": local,
            "peer_ep_group_id": peer,
            "split_selector": True,
            "psk": "another",
            "mtu": 1400,
            "admin_state_up": False,
        },
    )
    _report(w, m["router"])


def _report(w: World, router: str) -> None:
    """Two agents, one reporting an error with a (hidden) reason."""
    query = {"host": "gw-a", "router": router}
    state = w.agents.simulate_get("/agent/v1/state", params=query)
    assert state.status_code == 200, state.text
    entries = [
        {"id": c["id"], "revision": c["revision"], "status": "ERROR", "reason": "no answer"}
        for s in state.json["routers"][0]["services"]
        for c in s["connections"]
    ]
    for host, routers, sent in (("gw-a", [router], entries), ("gw-b", [], [])):
        body = {"host": host, "routers": routers, "connections": sent}
        got = w.agents.simulate_post("/agent/v1/reports", json=body)
        assert got.status_code == 200, got.text


def _queries(member: str, first: dict[str, Any] | None, filtering: bool) -> list[str]:
    """Sorting, paging and ``fields`` for any list; with ``filtering``, a
    filter on every scalar value the first item shows (so each matches)."""
    res = CAT[member]
    sort = next(iter(sorted(res.sort_keys - {"id"})), "id")
    queries = [
        "",
        f"sort_key={sort}&sort_dir=desc",
        f"sort_key={sort}&sort_dir=asc&sort_key=id&sort_dir=desc",
        "limit=2",
        "limit=2&page_reverse=True",
        "fields=id&fields=name",
    ]
    if first is not None:
        queries += [
            f"limit=1&marker={first['id']}",
            f"limit=1&marker={first['id']}&page_reverse=True",
        ]
    if filtering and first is not None:
        for name, value in first.items():
            if name in res.filters and isinstance(value, str | int | bool):
                queries.append(urlencode({name: value}))
    return queries


def _links(body: dict[str, Any]) -> list[str]:
    return [
        urlsplit(link["href"]).query
        for key, v in body.items()
        if key.endswith("_links")
        for link in v
    ]


@pytest.mark.parametrize("member", [res.member for res in CAT.resources])
def test_direct_lists_equal_lists_built_through_objects(world: World, member: str) -> None:
    res = CAT[member]
    path = "/v2.0" + res.path
    compared = 0
    for caller in CALLERS:
        plain, _ = world.both(caller, path, "")
        items = plain.json[res.collection] if plain.status_code == 200 else []
        first = items[0] if items else None
        for query in _queries(member, first, caller in FILTERING):
            direct, general = world.both(caller, path, query)
            what = f"{caller} GET {path}?{query}"
            assert direct.status_code == general.status_code, what
            assert direct.content == general.content, what
            for link in _links(direct.json):  # the next and previous pages too
                again = world.both(caller, path, link)
                assert again[0].content == again[1].content, f"{what} -> {link}"
            compared += 1
    assert compared >= len(CALLERS) * 6


def test_the_data_has_what_the_comparison_must_cover(world: World) -> None:
    """The comparison above proves little unless the lists hold composites,
    list and computed attributes, nulls, booleans both ways and hidden ones."""

    def listed(path: str, collection: str) -> list[dict[str, Any]]:
        got = world.direct.simulate_get(f"/v2.0{path}", headers=world.headers[NOBODY])
        assert got.status_code == 200, got.text
        return list(got.json[collection])

    conns = listed("/vpn/ipsec-site-connections", "ipsec_site_connections")
    assert {c["admin_state_up"] for c in conns} == {True, False}
    assert {c["split_selector"] for c in conns} == {True, False}
    assert ["10.21.0.0/24", "10.20.0.0/24"] in [c["peer_cidrs"] for c in conns]
    assert {"action": "restart", "interval": 10, "timeout": 50} in [c["dpd"] for c in conns]
    assert None in [c["local_ep_group_id"] for c in conns]
    assert "ERROR" in [c["status"] for c in conns]
    assert all("status_reason" not in c and c["tenant_id"] == c["project_id"] for c in conns)
    routers = listed("/routers", "routers")
    assert None in [r["external_gateway_info"] for r in routers]
    assert all("gw_network_id" not in r and "enable_snat" not in r for r in routers)
    assert any(n["subnets"] for n in listed("/networks", "networks"))
    subnets = listed("/subnets", "subnets")
    assert all(not any(k.startswith("network:") for k in s) for s in subnets)
    assert any(s["host_routes"] for s in subnets)
    assert sorted(a["host"] for a in listed("/agents", "agents")) == ["gw-a", "gw-b"]
