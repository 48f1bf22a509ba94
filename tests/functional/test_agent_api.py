"""The agent API in process (docs/agent-protocol.md): the desired state of a
router as the API built it, reports applied only for the current revision,
the heartbeat as an agents row, liveness, long polls and the role check.

The API and the agent API are two applications over one SQLite file, as
``vpnaas serve`` runs them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from falcon import testing

from vpnaas.app import AgentApplication, create_agent_app, create_app
from vpnaas.db.secrets import generate_key
from vpnaas.db.tables import schema
from vpnaas.drivers.strongswan.kept import KeptRows
from vpnaas.settings import AgentAPIOptions, Settings, TopologySeed
from vpnaas.spec.agents import agent_id
from vpnaas.topology.seed import seed_external_network

PROJECT = {"X-Project-Id": "p1"}
STATE = "/agent/v1/state"
REPORTS = "/agent/v1/reports"


@dataclass
class World:
    api: testing.TestClient
    agents: testing.TestClient
    agent_app: AgentApplication
    router: str
    gateway_ip: str
    service: str
    connection: str
    ikepolicy: str

    def state(self, **query: Any) -> dict[str, Any]:
        params = {"host": "gw-a", "router": self.router, **query}
        result = self.agents.simulate_get(STATE, params=params)
        assert result.status_code == 200, result.text
        doc: dict[str, Any] = result.json
        return doc

    def connection_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = self.state()["routers"][0]["services"][0]["connections"][0]
        return doc

    def report(self, *entries: dict[str, Any], host: str = "gw-a") -> dict[str, Any]:
        body = {"host": host, "routers": [self.router], "connections": list(entries)}
        result = self.agents.simulate_post(REPORTS, json=body)
        assert result.status_code == 200, result.text
        doc: dict[str, Any] = result.json
        return doc

    def update(self, path: str, member: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT ``body`` on ``/v2.0<path>`` as the project; the updated object."""
        result = self.api.simulate_put(f"/v2.0{path}", json={member: body}, headers=PROJECT)
        assert result.status_code == 200, result.text
        doc: dict[str, Any] = result.json[member]
        return doc

    def show(self, path: str) -> dict[str, Any]:
        result = self.api.simulate_get(f"/v2.0{path}", headers=PROJECT)
        assert result.status_code == 200, result.text
        doc: dict[str, Any] = next(iter(result.json.values()))
        return doc


def _post(client: testing.TestClient, path: str, member: str, body: dict[str, Any]) -> str:
    result = client.simulate_post(f"/v2.0{path}", json={member: body}, headers=PROJECT)
    assert result.status_code == 201, result.text
    return str(result.json[member]["id"])


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    """``sealed`` (indirect parameter): psks encrypted at rest with a secret key."""
    public = str(uuid.uuid4())
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/a.sqlite",
        driver="strongswan",
        seed=TopologySeed(network_id=public),
        agent_api=AgentAPIOptions(agent_down_time=30),
        secret_keys=(generate_key(),) if getattr(request, "param", False) else (),
    )
    app = create_app(settings)
    schema().metadata.create_all(app.db.engine)
    seed_external_network(app.controller, settings.seed)
    agent_app = create_agent_app(settings)
    api = testing.TestClient(app)
    net = _post(api, "/networks", "network", {"name": "lan"})
    subnet = _post(
        api, "/subnets", "subnet", {"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4}
    )
    router = _post(api, "/routers", "router", {"external_gateway_info": {"network_id": public}})
    result = api.simulate_put(
        f"/v2.0/routers/{router}/add_router_interface", json={"subnet_id": subnet}, headers=PROJECT
    )
    assert result.status_code == 200, result.text
    gateway = api.simulate_get(f"/v2.0/routers/{router}", headers=PROJECT).json["router"]
    gateway_ip = gateway["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    service = _post(
        api, "/vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet}
    )
    ike = _post(api, "/vpn/ikepolicies", "ikepolicy", {"ike_version": "v2"})
    ipsec = _post(api, "/vpn/ipsecpolicies", "ipsecpolicy", {})
    conn = _post(
        api,
        "/vpn/ipsec-site-connections",
        "ipsec_site_connection",
        {
            "vpnservice_id": service,
            "ikepolicy_id": ike,
            "ipsecpolicy_id": ipsec,
            "peer_address": "172.24.4.200",
            "peer_id": "172.24.4.200",
            "peer_cidrs": ["10.2.0.0/24"],
            "psk": "s3cret-of-a",
        },
    )
    try:
        yield World(
            api, testing.TestClient(agent_app), agent_app, router, gateway_ip, service, conn, ike
        )
    finally:
        agent_app.close()
        app.db.dispose()


SEALED = pytest.mark.parametrize("world", [False, True], ids=["clear", "sealed"], indirect=True)


@SEALED
def test_the_state_carries_what_the_api_was_told(world: World) -> None:
    state = world.state()
    (router,) = state["routers"]
    assert router["id"] == world.router
    assert router["local_address"] == world.gateway_ip
    (service,) = router["services"]
    assert service == {
        "id": world.service,
        "admin_state_up": True,
        "connections": [service["connections"][0]],
    }
    conn = service["connections"][0]
    assert conn["id"] == world.connection
    assert conn["local_address"] == conn["local_id"] == world.gateway_ip
    assert (conn["peer_address"], conn["peer_id"]) == ("172.24.4.200", "172.24.4.200")
    assert conn["local_cidrs"] == ["10.1.0.0/24"]
    assert conn["peer_cidrs"] == ["10.2.0.0/24"]
    assert conn["psk"] == "s3cret-of-a"
    assert conn["dpd"] == {"action": "hold", "interval": 30, "timeout": 120}
    assert conn["ikepolicy"]["id"] == world.ikepolicy
    assert conn["ikepolicy"]["ike_version"] == "v2"
    assert conn["ipsecpolicy"]["lifetime"] == {"units": "seconds", "value": 3600}
    assert world.state()["revision"] == state["revision"]


def test_an_unknown_router_has_no_services(world: World) -> None:
    state = world.state(router=[world.router, "no-such-router"])
    assert state["routers"][1] == {"id": "no-such-router", "local_address": None, "services": []}


def test_a_report_for_the_current_revision_sets_status_and_heartbeat(world: World) -> None:
    assert (
        world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "PENDING_CREATE"
    )
    conn = world.connection_doc()
    answer = world.report({"id": conn["id"], "revision": conn["revision"], "status": "ACTIVE"})
    assert answer == {"accepted": [world.connection], "stale": []}
    assert world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "ACTIVE"
    assert world.show(f"/vpn/vpnservices/{world.service}")["status"] == "ACTIVE"
    agents = world.api.simulate_get("/v2.0/agents").json["agents"]
    assert [(a["host"], a["alive"], a["agent_type"]) for a in agents] == [
        ("gw-a", True, "VPN Agent")
    ]
    assert agents[0]["configurations"]["routers"] == [world.router]
    assert agents[0]["id"] == agent_id("gw-a")


def test_a_report_larger_than_a_public_request_is_accepted(world: World) -> None:
    """An agent with hundreds of connections reports them all (here padded
    with unknown ids, which are stale) past the public API's body limit."""
    conn = world.connection_doc()
    unknown = [
        {"id": str(uuid.uuid4()), "revision": "r" * 16, "status": "DOWN"} for _ in range(1500)
    ]
    current = {"id": conn["id"], "revision": conn["revision"], "status": "ACTIVE"}
    body = {"host": "gw-a", "routers": [world.router], "connections": [current, *unknown]}
    result = world.agents.simulate_post(REPORTS, json=body)
    assert result.status_code == 200, result.text[:500]
    assert result.json["accepted"] == [world.connection]
    assert len(result.json["stale"]) == 1500
    assert world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "ACTIVE"


def test_a_stale_report_changes_nothing(world: World) -> None:
    conn = world.connection_doc()
    answer = world.report(
        {"id": conn["id"], "revision": "not-the-revision", "status": "ERROR", "reason": "x"},
        {"id": str(uuid.uuid4()), "revision": conn["revision"], "status": "ACTIVE"},
    )
    assert answer["accepted"] == []
    assert len(answer["stale"]) == 2
    assert (
        world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "PENDING_CREATE"
    )


def test_an_error_report_keeps_its_reason_and_errs_the_service(world: World) -> None:
    conn = world.connection_doc()
    entry = {"id": conn["id"], "revision": conn["revision"], "status": "ERROR"}
    world.report({**entry, "reason": "x" * 300})
    assert _reason(world, conn["id"]) == "x" * 255
    world.report({**entry, "reason": "authentication failed"})
    assert world.show(f"/vpn/vpnservices/{world.service}")["status"] == "ERROR"
    shown = world.show(f"/vpn/ipsec-site-connections/{world.connection}")
    assert shown["status"] == "ERROR"
    assert "status_reason" not in shown
    assert _reason(world, conn["id"]) == "authentication failed"


def _reason(world: World, conn_id: str) -> str | None:
    table = schema().table("ipsec_site_connection")
    with world.agent_app.db.read() as db:
        reason = db.scalar(sa.select(table.c.status_reason).where(table.c.id == conn_id))
    return None if reason is None else str(reason)


def test_admin_down_is_never_active(world: World) -> None:
    conn = world.connection_doc()
    world.report({"id": conn["id"], "revision": conn["revision"], "status": "ACTIVE"})
    world.update(f"/vpn/vpnservices/{world.service}", "vpnservice", {"admin_state_up": False})
    conn = world.connection_doc()
    world.report({"id": conn["id"], "revision": conn["revision"], "status": "ACTIVE"})
    assert world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "DOWN"
    assert world.show(f"/vpn/vpnservices/{world.service}")["status"] == "DOWN"


def test_a_silent_agent_is_dead_and_its_connections_down(world: World) -> None:
    conn = world.connection_doc()
    world.report({"id": conn["id"], "revision": conn["revision"], "status": "ACTIVE"})
    assert world.agent_app.api.sweep() == []
    agents = schema().table("agent")
    with world.agent_app.db.write() as db:
        db.execute(sa.update(agents).values(heartbeat_timestamp="2000-01-01 00:00:00"))
    other_server = create_agent_app(
        Settings(database_url=world.agent_app.db.url, driver="strongswan")
    )
    try:  # two servers sweeping one database: one of them declares it
        assert world.agent_app.api.sweep() == ["gw-a"]
        assert other_server.api.sweep() == []
    finally:
        other_server.close()
    assert world.agent_app.api.sweep() == []
    assert world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "DOWN"
    assert world.show(f"/vpn/vpnservices/{world.service}")["status"] == "DOWN"
    assert world.api.simulate_get("/v2.0/agents").json["agents"][0]["alive"] is False
    world.report({"id": conn["id"], "revision": conn["revision"], "status": "ACTIVE"})
    assert world.show(f"/vpn/ipsec-site-connections/{world.connection}")["status"] == "ACTIVE"
    assert world.api.simulate_get("/v2.0/agents").json["agents"][0]["alive"] is True


def test_a_long_poll_answers_a_change_and_304s_without_one(world: World) -> None:
    revision = world.state()["revision"]
    quiet = world.agents.simulate_get(
        STATE, params={"host": "gw-a", "router": world.router, "known": revision, "wait": "0.3"}
    )
    assert quiet.status_code == 304
    assert quiet.text == ""
    answers: list[Any] = []
    poll = threading.Thread(
        target=lambda: answers.append(world.state(known=revision, wait="30")), daemon=True
    )
    poll.start()
    poll.join(0.5)
    assert answers == []  # still waiting
    world.update(f"/vpn/ikepolicies/{world.ikepolicy}", "ikepolicy", {"lifetime": {"value": 7200}})
    poll.join(20)
    assert not poll.is_alive()
    (state,) = answers
    assert state["revision"] != revision
    conn = state["routers"][0]["services"][0]["connections"][0]
    assert conn["ikepolicy"]["lifetime"]["value"] == 7200


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        pytest.param({"router": "r"}, "host is required", id="no-host"),
        pytest.param({"host": "h", "wait": "61"}, "wait must be", id="wait-too-long"),
        pytest.param({"host": "h", "wait": "soon"}, "wait must be", id="wait-not-a-number"),
        pytest.param({"host": "h", "colour": "red"}, "unknown parameter colour", id="unknown"),
    ],
)
def test_bad_state_queries_are_400(world: World, query: dict[str, str], reason: str) -> None:
    result = world.agents.simulate_get(STATE, params=query)
    assert result.status_code == 400
    assert result.json["NeutronError"]["type"] == "InvalidAgentRequest"
    assert reason in result.json["NeutronError"]["message"]


def _nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` objects deep (deeper than an encoder will go)."""
    doc: dict[str, Any] = {}
    for _ in range(depth):
        doc = {"a": doc}
    return doc


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="not-an-object"),
        pytest.param({"routers": []}, id="no-host"),
        pytest.param({"host": "h", "connections": [{"id": "c", "revision": "r"}]}, id="no-status"),
        pytest.param(
            {"host": "h", "connections": [{"id": "c", "revision": "r", "status": "UP"}]},
            id="bad-status",
        ),
        pytest.param({"host": "h", "configurations": {"x": "y" * 5000}}, id="huge-configurations"),
        pytest.param({"host": "h", "routers": "r"}, id="routers-not-a-list"),
    ],
)
def test_bad_reports_are_400_and_record_nothing(world: World, body: Any) -> None:
    result = world.agents.simulate_post(REPORTS, json=body)
    assert result.status_code == 400, result.text
    assert result.json["NeutronError"]["type"] == "InvalidAgentRequest"
    assert world.api.simulate_get("/v2.0/agents").json["agents"] == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"host": "h", "configurations": _nested(900)}, id="configurations"),
        pytest.param(
            {
                "host": "h",
                "connections": [
                    {"id": "c", "revision": "r", "status": "DOWN", "telemetry": _nested(300)}
                ],
            },
            id="telemetry",
        ),
    ],
)
def test_a_report_nested_too_deep_is_malformed_and_records_nothing(world: World, body: Any) -> None:
    result = world.agents.simulate_post(REPORTS, json=body)
    assert result.status_code == 400, result.text
    assert result.json["NeutronError"]["type"] == "MalformedRequestBody"
    assert "nested deeper than" in result.json["NeutronError"]["message"]
    assert world.api.simulate_get("/v2.0/agents").json["agents"] == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Project-Id": "p1"}, id="member"),
        pytest.param({"X-Project-Id": "p1", "X-Roles": "reader"}, id="reader"),
    ],
)
def test_the_agent_api_needs_admin_or_service(world: World, headers: dict[str, str]) -> None:
    for result in (
        world.agents.simulate_get(STATE, params={"host": "h"}, headers=headers),
        world.agents.simulate_post(REPORTS, json={"host": "h"}, headers=headers),
    ):
        assert result.status_code == 403
        assert result.json["NeutronError"]["type"] == "AgentAPIForbidden"
    service = {"X-Project-Id": "p1", "X-Roles": "service"}
    assert (
        world.agents.simulate_get(STATE, params={"host": "h"}, headers=service).status_code == 200
    )


def test_agents_are_for_admins_only(world: World) -> None:
    world.report()
    assert world.api.simulate_get("/v2.0/agents", headers=PROJECT).json["agents"] == []
    one = world.api.simulate_get(f"/v2.0/agents/{agent_id('gw-a')}", headers=PROJECT)
    assert one.status_code == 404
    shown = world.api.simulate_get(f"/v2.0/agents/{agent_id('gw-a')}")
    assert shown.json["agent"]["host"] == "gw-a"
    assert world.api.simulate_post("/v2.0/agents", json={"agent": {}}).status_code == 405


def test_an_update_is_pending_until_its_revision_is_reported(world: World) -> None:
    old = world.connection_doc()
    world.report({"id": old["id"], "revision": old["revision"], "status": "ACTIVE"})
    world.update(
        f"/vpn/ipsecpolicies/{old['ipsecpolicy']['id']}",
        "ipsecpolicy",
        {"lifetime": {"value": 1800}},
    )
    path = f"/vpn/ipsec-site-connections/{world.connection}"
    assert world.show(path)["status"] == "PENDING_UPDATE"
    assert world.report({"id": old["id"], "revision": old["revision"], "status": "ACTIVE"}) == {
        "accepted": [],
        "stale": [world.connection],
    }
    assert world.show(path)["status"] == "PENDING_UPDATE"
    new = world.connection_doc()
    assert new["revision"] != old["revision"]
    world.report({"id": new["id"], "revision": new["revision"], "status": "ACTIVE"})
    assert world.show(path)["status"] == "ACTIVE"
    updated = world.update(path, "ipsec_site_connection", {"mtu": 1400})
    assert updated["status"] == "PENDING_UPDATE"
    assert world.connection_doc()["mtu"] == 1400


def test_aggressive_mode_when_the_operator_allows_it(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/g.sqlite",
        driver="strongswan",
        allow_aggressive_mode=True,
        seed=TopologySeed(enabled=False),
    )
    app = create_app(settings)
    schema().metadata.create_all(app.db.engine)
    try:
        api = testing.TestClient(app)
        body = {"phase1_negotiation_mode": "aggressive"}
        assert _post(api, "/vpn/ikepolicies", "ikepolicy", body)
        gcm = {"ike_version": "v1", "encryption_algorithm": "aes-128-gcm-16"}
        refused = api.simulate_post("/v2.0/vpn/ikepolicies", json={"ikepolicy": gcm})
        assert refused.status_code == 400
    finally:
        app.db.dispose()


@SEALED
def test_revisions_follow_the_config_not_the_status(world: World) -> None:
    first = world.connection_doc()
    world.report({"id": first["id"], "revision": first["revision"], "status": "ACTIVE"})
    assert world.connection_doc()["revision"] == first["revision"]
    path = f"/vpn/ipsec-site-connections/{world.connection}"
    world.update(path, "ipsec_site_connection", {"psk": "another-secret"})
    second = world.connection_doc()
    assert second["psk"] == "another-secret"
    assert second["revision"] != first["revision"]
    world.report({"id": second["id"], "revision": second["revision"], "status": "ACTIVE"})
    world.update(f"/vpn/vpnservices/{world.service}", "vpnservice", {"admin_state_up": False})
    assert world.connection_doc()["revision"] not in (first["revision"], second["revision"])


@pytest.mark.parametrize("world", [True], ids=["sealed"], indirect=True)
def test_a_sealed_psk_is_stored_sealed_and_handed_to_agents_open(world: World) -> None:
    """With a secret key the psk is encrypted at rest; the agent API opens it
    for the agent, which needs it to configure charon."""
    engine = world.agent_app.db.engine
    table = schema().table("ipsec_site_connection")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(table).where(table.c.id == world.connection)).one()
    assert "s3cret-of-a" not in [str(value) for value in stored]
    assert world.connection_doc()["psk"] == "s3cret-of-a"


def test_states_built_from_kept_documents_equal_fresh_ones(world: World) -> None:
    """The agent API builds a state from the documents and rows it kept at
    the same stamps (docs/decisions.md, "Desired states built from what
    changed"): after each kind of write, what it answers is what a build
    with nothing kept gives."""
    key = (world.router,)
    api = world.agent_app.api

    def state() -> dict[str, Any]:
        kept = api.states([key])[key]
        saved, api.kept = api.kept, KeptRows()
        try:
            assert api.states([key])[key] == kept
        finally:
            api.kept = saved
        conns = kept["routers"][0]["services"][0]["connections"]
        return {conn["id"]: conn for conn in conns}

    def up(*ids: str) -> dict[str, dict[str, Any]]:
        """Report ``ids`` ACTIVE at their current revision; the state after."""
        now = state()
        world.report(*({"id": i, "revision": now[i]["revision"], "status": "ACTIVE"} for i in ids))
        after = state()
        assert [after[i]["revision"] for i in ids] == [now[i]["revision"] for i in ids]
        return after

    first = up(world.connection)[world.connection]
    body = {k: first[k] for k in ("peer_address", "peer_id", "psk")}
    body.update(vpnservice_id=world.service, ikepolicy_id=world.ikepolicy)
    body.update(ipsecpolicy_id=first["ipsecpolicy"]["id"], peer_cidrs=["10.3.0.0/24"])
    second = _post(world.api, "/vpn/ipsec-site-connections", "ipsec_site_connection", body)
    assert up(second)[second]["peer_cidrs"] == ["10.3.0.0/24"]
    path = f"/vpn/ipsec-site-connections/{world.connection}"
    world.update(path, "ipsec_site_connection", {"mtu": 1400})
    assert up(world.connection)[world.connection]["mtu"] == 1400
    world.update(f"/vpn/ikepolicies/{world.ikepolicy}", "ikepolicy", {"lifetime": {"value": 900}})
    current = up(world.connection, second)[second]
    assert current["ikepolicy"]["lifetime"]["value"] == 900
    world.update(f"/vpn/vpnservices/{world.service}", "vpnservice", {"admin_state_up": False})
    assert state()[second]["revision"] != current["revision"]
    result = world.api.simulate_delete(
        f"/v2.0/vpn/ipsec-site-connections/{second}", headers=PROJECT
    )
    assert result.status_code == 204, result.text
    assert list(state()) == [world.connection]
