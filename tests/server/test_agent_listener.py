"""``vpnaas serve --driver strongswan`` with real agents' traffic: the agent
API on its own listener, long polls that hold only its threads, liveness
decided by the server on its own, and agents as ``openstack network agent
list`` shows them.

The public API runs one request thread (SQLite); 50 agents waiting in long
polls must leave it answering every request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess, free_port, start_server

pytestmark = pytest.mark.slow

AGENTS = 50
PROJECT = {"X-Project-Id": "agent-listener"}
DOWN_TIME = 3
OPENSTACK = Path(sys.executable).parent / "openstack"


@dataclass
class Served:
    api: ServerProcess
    agent_port: int

    def agent_url(self, path: str, **query: Any) -> str:
        return f"http://127.0.0.1:{self.agent_port}{path}?{urllib.parse.urlencode(query, True)}"

    def state(self, timeout: float = 30, **query: Any) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(
                self.agent_url("/agent/v1/state", **query), timeout=timeout
            ) as r:
                body = r.read()
                return r.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, None

    def report(self, body: dict[str, Any]) -> Any:
        req = urllib.request.Request(
            self.agent_url("/agent/v1/reports"),
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    config = {"agent_api": {"bind_port": str(port), "agent_down_time": str(DOWN_TIME)}}
    server = start_server(
        tmp_path_factory.mktemp("agent-listener"), config=config, args=("--driver", "strongswan")
    )
    try:
        result = Served(server, port)
        deadline = time.monotonic() + 30
        while not _answers(result):
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
        yield result
    finally:
        server.stop()


def _answers(served: Served) -> bool:
    try:
        return served.state(timeout=2, host="probe")[0] == 200
    except urllib.error.URLError:
        return False


def _create(server: ServerProcess, path: str, member: str, body: dict[str, Any]) -> str:
    response = server.request("POST", f"v2.0/{path}", {member: body}, headers=PROJECT, timeout=10)
    assert response.status == 201, response.body
    return str(response.body[member]["id"])


def _router(served: Served) -> tuple[str, str]:
    api = served.api
    net = _create(api, "networks", "network", {"name": "lan"})
    subnet = _create(
        api, "subnets", "subnet", {"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4}
    )
    gateway = {"external_gateway_info": {"network_id": api.public_network_id}}
    router = _create(api, "routers", "router", gateway)
    attached = api.request(
        "PUT",
        f"v2.0/routers/{router}/add_router_interface",
        {"subnet_id": subnet},
        headers=PROJECT,
    )
    assert attached.status == 200
    return router, subnet


def test_fifty_waiting_agents_leave_the_api_answering(served: Served) -> None:
    router, subnet = _router(served)
    status, state = served.state(host="gw", router=router)
    assert status == 200
    answers: list[tuple[int, Any]] = []

    def poll() -> None:
        answers.append(
            served.state(timeout=60, host="gw", router=router, known=state["revision"], wait=45)
        )

    polls = [threading.Thread(target=poll, daemon=True) for _ in range(AGENTS)]
    for thread in polls:
        thread.start()
    time.sleep(1)
    for i in range(20):  # every API request is answered while the agents wait
        listed = served.api.request("GET", "v2.0/vpn/ikepolicies", headers=PROJECT, timeout=10)
        assert listed.status == 200
        _create(served.api, "vpn/ikepolicies", "ikepolicy", {"name": f"p{i}"})
    assert answers == []  # unrelated writes did not change their state
    _create(served.api, "vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet})
    for thread in polls:
        thread.join(30)
    assert len(answers) == AGENTS
    for status, doc in answers:
        assert status == 200
        assert doc["revision"] != state["revision"]
        assert len(doc["routers"][0]["services"]) == 1


def test_a_silent_agent_is_declared_dead_by_the_server(served: Served) -> None:
    served.report({"host": "gw-silent", "routers": ["r-silent"], "connections": []})
    deadline = time.monotonic() + 30
    alive = True
    while alive and time.monotonic() < deadline:
        agents = served.api.request("GET", "v2.0/agents?host=gw-silent").body["agents"]
        alive = agents[0]["alive"]
        time.sleep(0.5)
    assert alive is False
    served.report({"host": "gw-silent", "routers": ["r-silent"], "connections": []})
    agents = served.api.request("GET", "v2.0/agents?host=gw-silent").body["agents"]
    assert agents[0]["alive"] is True


def test_openstack_network_agent_list_shows_agents(served: Served) -> None:
    served.report({"host": "gw-cli", "routers": ["r-cli"], "connections": []})
    proc = subprocess.run(
        [
            str(OPENSTACK),
            "--os-auth-type",
            "none",
            "--os-endpoint",
            served.api.url,
            "network",
            "agent",
            "list",
            "--host",
            "gw-cli",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(served.api.workdir)},
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["Host"] == "gw-cli"
    assert row["Agent Type"] == "VPN Agent"
    assert row["Binary"] == "vpnaas-agent"
    assert row["Alive"] is True
    assert row["State"] is True
