"""``vpnaas agent``'s channel to the server in keystone mode, for real: the
agent's own keystoneauth session, loaded from ``[agent]`` options exactly as
``vpnaas agent`` loads it, authenticates as a service user of its own
against a real Keystone, pulls the desired state from the agent listener of
a keystone-mode ``vpnaas serve --driver strongswan``, and posts a report
that the server applies: the agent shows up at ``GET /v2.0/agents`` and the
connection takes the reported status, as a Keystone admin sees them.

No charon runs here: the agent's VICI side is covered by the data-plane
tests; this is the server channel (:class:`vpnaas.agent.client.ServerClient`)
with nothing faked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.keystone import Accounts, Keystone, User, render_ini
from tests.support.net import LOOPBACK, free_port
from tests.support.server import ServerProcess, start_server
from vpnaas.agent.client import ServerClient, ServerUnavailable
from vpnaas.agent.main import _session
from vpnaas.settings import agent as settings_mod

pytestmark = pytest.mark.slow

HOST = "gw-keystone"


@dataclass
class Served:
    keystone: Keystone
    server: ServerProcess
    agent_url: str
    agent_user: User
    workdir: Path

    def api(self, user: User, method: str, path: str, body: Any = None) -> Any:
        token = self.keystone.token(user)
        res = self.server.request(method, path, body, headers={"X-Auth-Token": token})
        assert res.status < 400, f"{method} {path}: {res.status} {res.body}"
        return res.body

    def client(self, password: str | None = None) -> ServerClient:
        """A client built as ``vpnaas agent`` builds it, from an ``[agent]``
        section with the agent's service user."""
        user = self.agent_user
        assert user.project is not None
        options = {
            "server_url": self.agent_url,
            "auth_type": "password",
            "auth_url": self.keystone.auth_url,
            "username": user.name,
            "password": password or user.password,
            "user_domain_id": "default",
            "project_name": user.project.name,
            "project_domain_id": "default",
        }
        conf = self.workdir / f"agent-{uuid.uuid4().hex[:6]}.conf"
        conf.write_text(
            render_ini({"DEFAULT": {"auth_strategy": "keystone"}, "agent": options}),
            encoding="utf-8",
        )
        settings = settings_mod.load_agent([str(conf)])
        return ServerClient(settings.server_urls, _session(settings), noauth=False)


@pytest.fixture(scope="module")
def served(
    keystone: Keystone, keystone_accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("agent-keystone")
    service = keystone_accounts.service_project
    agent_user = keystone.create_user(f"agent-{uuid.uuid4().hex[:8]}", service, ["service"])
    port = free_port()
    config = {
        "DEFAULT": {"auth_strategy": "keystone"},
        "keystone_authtoken": keystone.authtoken_options(keystone_accounts.service),
        "agent_api": {"bind_port": str(port)},
    }
    server = start_server(workdir, config=config, args=("--driver", "strongswan"))
    try:
        yield Served(keystone, server, f"http://{LOOPBACK}:{port}/", agent_user, workdir)
    finally:
        server.stop()


def _connection(served: Served, member: User) -> tuple[str, str]:
    """A router with a whole connection on it, made by ``member`` through
    the API: the router's id and the connection's."""
    api = served.api
    net = api(member, "POST", "v2.0/networks", {"network": {"name": "lan"}})["network"]
    subnet = api(
        member,
        "POST",
        "v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.7.1.0/24", "ip_version": 4}},
    )["subnet"]
    gateway = {"network_id": served.server.public_network_id}
    router = api(member, "POST", "v2.0/routers", {"router": {"external_gateway_info": gateway}})
    router_id = router["router"]["id"]
    api(
        member,
        "PUT",
        f"v2.0/routers/{router_id}/add_router_interface",
        {"subnet_id": subnet["id"]},
    )
    svc = api(member, "POST", "v2.0/vpn/vpnservices", {"vpnservice": {"router_id": router_id}})
    ike = api(member, "POST", "v2.0/vpn/ikepolicies", {"ikepolicy": {"name": "ike"}})
    ipsec = api(member, "POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"name": "ipsec"}})
    groups = [
        api(member, "POST", "v2.0/vpn/endpoint-groups", {"endpoint_group": body})
        for body in (
            {"type": "subnet", "endpoints": [subnet["id"]]},
            {"type": "cidr", "endpoints": ["10.99.0.0/24"]},
        )
    ]
    body = {
        "vpnservice_id": svc["vpnservice"]["id"],
        "ikepolicy_id": ike["ikepolicy"]["id"],
        "ipsecpolicy_id": ipsec["ipsecpolicy"]["id"],
        "local_ep_group_id": groups[0]["endpoint_group"]["id"],
        "peer_ep_group_id": groups[1]["endpoint_group"]["id"],
        "peer_address": "198.51.100.7",
        "peer_id": "198.51.100.7",
        "psk": "agent-keystone-secret",
    }
    conn = api(member, "POST", "v2.0/vpn/ipsec-site-connections", {"ipsec_site_connection": body})
    return router_id, conn["ipsec_site_connection"]["id"]


def test_the_agent_pulls_and_reports_as_its_service_user(
    served: Served, keystone_accounts: Accounts
) -> None:
    router, conn_id = _connection(served, keystone_accounts.a_member)
    client = served.client()

    state = client.state(HOST, [router], None, 0)
    assert state is not None
    (routed,) = state["routers"]
    assert routed["id"] == router
    (service,) = routed["services"]
    (conn,) = service["connections"]
    assert conn["id"] == conn_id
    assert conn["psk"] == "agent-keystone-secret"
    # the same revision, asked with a short wait: nothing changed
    assert client.state(HOST, [router], state["revision"], 1) is None

    entry = {"id": conn_id, "revision": conn["revision"], "status": "ACTIVE"}
    answer = client.report({"host": HOST, "routers": [router], "connections": [entry]})
    assert answer["accepted"] == [conn_id]

    admin = keystone_accounts.admin
    agents = served.api(admin, "GET", f"v2.0/agents?host={HOST}")["agents"]
    (agent,) = agents
    assert agent["alive"] is True
    assert agent["configurations"]["routers"] == [router]
    shown = served.api(
        keystone_accounts.a_member, "GET", f"v2.0/vpn/ipsec-site-connections/{conn_id}"
    )["ipsec_site_connection"]
    assert shown["status"] == "ACTIVE"


def test_the_agent_sees_a_change_within_its_long_poll(
    served: Served, keystone_accounts: Accounts
) -> None:
    member = keystone_accounts.b_member
    router, conn_id = _connection(served, member)
    client = served.client()
    state = client.state(HOST, [router], None, 0)
    assert state is not None
    (conn,) = state["routers"][0]["services"][0]["connections"]
    entry = {"id": conn_id, "revision": conn["revision"], "status": "ACTIVE"}
    client.report({"host": HOST, "routers": [router], "connections": [entry]})
    state = client.state(HOST, [router], None, 0)  # as it is after the report
    assert state is not None
    served.api(
        member,
        "PUT",
        f"v2.0/vpn/ipsec-site-connections/{conn_id}",
        {"ipsec_site_connection": {"psk": "a-new-secret"}},
    )
    changed = client.state(HOST, [router], state["revision"], 30)
    assert changed is not None, "the long poll ended without the change"
    (conn,) = changed["routers"][0]["services"][0]["connections"]
    assert conn["psk"] == "a-new-secret"


def test_a_wrong_password_gets_no_state(served: Served) -> None:
    client = served.client(password="not-the-password")
    with pytest.raises(ServerUnavailable) as caught:
        client.state(HOST, ["any-router"], None, 0)
    assert "401" in str(caught.value)
    assert "not-the-password" not in str(caught.value)


def test_a_user_without_the_service_role_is_refused(
    served: Served, keystone_accounts: Accounts
) -> None:
    member = keystone_accounts.a_member
    served.agent_user, kept = member, served.agent_user
    try:
        client = served.client()
        with pytest.raises(ServerUnavailable, match="403"):
            client.state(HOST, ["any-router"], None, 0)
    finally:
        served.agent_user = kept
