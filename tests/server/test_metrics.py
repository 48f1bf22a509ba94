"""``/metrics`` of a real ``vpnaas serve`` with two workers and the agent
API: request counts add up across the workers' processes, routes are
templates, and the database gauges follow what agents report."""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.support.net import LOOPBACK
from tests.support.server import ServerProcess, free_port, start_server

pytestmark = pytest.mark.slow

PROJECT = "metrics-project"
HEADERS = {"X-Project-Id": PROJECT}
LISTS = 24
SHOWS = 6
API_REQUESTS = "vpnaas_api_requests_total"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Served:
    api: ServerProcess
    agent_port: int
    metrics_port: int

    def scrape(self) -> Samples:
        url = f"http://{LOOPBACK}:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as r:
            text = r.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def agent(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        qs = urllib.parse.urlencode(query, True)
        req = urllib.request.Request(
            f"http://{LOOPBACK}:{self.agent_port}{path}?{qs}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    agent_port, metrics_port = free_port(), free_port()
    config = {
        "agent_api": {"bind_port": str(agent_port)},
        "metrics": {"enabled": "true", "bind_port": str(metrics_port)},
    }
    server = start_server(
        tmp_path_factory.mktemp("metrics"),
        config=config,
        args=("--workers", "2", "--driver", "strongswan"),
    )
    try:
        result = Served(server, agent_port, metrics_port)
        deadline = time.monotonic() + 60
        while not _up(result):
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
        yield result
    finally:
        server.stop()


def _up(served: Served) -> bool:
    try:
        served.scrape()
        served.agent("GET", "/agent/v1/state", host="probe")
    except OSError:
        return False
    return True


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _multiprocess_directory(server: ServerProcess) -> Path:
    """The directory ``vpnaas serve`` gave its processes (read from a child's
    environment: the server sets it for them)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for child in children:
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for entry in environ:
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                return Path(entry.split(b"=", 1)[1].decode())
    raise AssertionError("no child of vpnaas serve has the metrics directory")


def test_request_counts_add_up_across_workers(served: Served) -> None:
    api = served.api
    ids = ["0b5a1f44-aaaa-4bbb-8ccc-000000000001", "0b5a1f44-aaaa-4bbb-8ccc-000000000002"]

    def one(i: int) -> int:
        if i < LISTS:
            return api.request("GET", "v2.0/vpn/ikepolicies", headers=HEADERS).status
        return api.request("GET", f"v2.0/vpn/ikepolicies/{ids[i % 2]}", headers=HEADERS).status

    def busy_workers() -> int:
        files = _multiprocess_directory(api).glob("counter_*.db")
        return len([f for f in files if _api_requests(f) > 0])

    rounds = 0
    # which worker accepts a connection is the kernel's choice: rounds until
    # both have taken requests (the first almost always does it)
    while rounds < 10 and (rounds == 0 or busy_workers() < 2):
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(LISTS + SHOWS)))
        assert statuses == [200] * LISTS + [404] * SHOWS
        rounds += 1
    assert busy_workers() == 2
    samples = served.scrape()
    listed = {"method": "GET", "route": "/v2.0/vpn/ikepolicies", "status": "200"}
    shown = {"method": "GET", "route": "/v2.0/vpn/ikepolicies/{obj_id}", "status": "404"}
    assert _value(samples, "vpnaas_api_requests_total", **listed) == LISTS * rounds
    assert _value(samples, "vpnaas_api_requests_total", **shown) == SHOWS * rounds
    assert _value(samples, "vpnaas_api_request_duration_seconds_count", **listed) == LISTS * rounds
    shown_count = _value(samples, "vpnaas_api_request_duration_seconds_bucket", le="+Inf", **shown)
    assert shown_count == SHOWS * rounds
    assert _value(samples, "vpnaas_api_request_duration_seconds_sum", **listed) > 0
    assert not any(i in str(key) for key in samples for i in ids)  # never the raw path


def _api_requests(counter_file: Path) -> float:
    """The API requests one process counted in its file."""
    merge = MultiProcessCollector.merge
    families = merge([str(counter_file)], accumulate=False)  # type: ignore[no-untyped-call]
    counted = [s.value for f in families for s in f.samples if s.name == API_REQUESTS]
    return float(sum(counted))


def _create(api: ServerProcess, path: str, member: str, body: dict[str, Any]) -> str:
    response = api.request("POST", f"v2.0/{path}", {member: body}, headers=HEADERS)
    assert response.status == 201, response.body
    return str(response.body[member]["id"])


def _connection(api: ServerProcess) -> tuple[str, str]:
    """A router with a gateway and a LAN, and one connection on it."""
    net = _create(api, "networks", "network", {"name": "lan"})
    subnet = _create(
        api, "subnets", "subnet", {"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4}
    )
    router = _create(
        api, "routers", "router", {"external_gateway_info": {"network_id": api.public_network_id}}
    )
    added = api.request(
        "PUT", f"v2.0/routers/{router}/add_router_interface", {"subnet_id": subnet}, headers=HEADERS
    )
    assert added.status == 200
    service = _create(
        api, "vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet}
    )
    conn = _create(
        api,
        "vpn/ipsec-site-connections",
        "ipsec_site_connection",
        {
            "vpnservice_id": service,
            "ikepolicy_id": _create(api, "vpn/ikepolicies", "ikepolicy", {"name": "ike"}),
            "ipsecpolicy_id": _create(api, "vpn/ipsecpolicies", "ipsecpolicy", {"name": "esp"}),
            "peer_address": "198.51.100.7",
            "peer_id": "198.51.100.7",
            "peer_cidrs": ["10.2.0.0/24"],
            "psk": "metrics-psk-0123456789",
        },
    )
    return router, conn


def _child(conn: str, uniqueid: str, traffic: int) -> dict[str, Any]:
    """A child SA of ``conn`` that carried ``traffic`` bytes (and a tenth as
    many packets) each way."""
    return {
        "name": conn,
        "uniqueid": uniqueid,
        "state": "INSTALLED",
        "bytes_in": traffic,
        "bytes_out": 2 * traffic,
        "packets_in": traffic // 10,
        "packets_out": traffic // 5,
    }


def _report(served: Served, router: str, conn: str, status: str, *children: Any) -> None:
    state = served.agent("GET", "/agent/v1/state", host="gw-metrics", router=router)
    (desired,) = state["routers"][0]["services"][0]["connections"]
    entry = {"id": conn, "revision": desired["revision"], "status": status, "reason": None}
    if children:
        entry["telemetry"] = {"child_sas": list(children)}
    answer = served.agent(
        "POST",
        "/agent/v1/reports",
        {
            "host": "gw-metrics",
            "routers": [router],
            "configurations": {"charon_since": "2026-12-07T00:00:00Z"},
            "connections": [entry],
        },
    )
    assert answer["accepted"] == [conn]


def test_database_gauges_follow_agent_reports(served: Served) -> None:
    router, conn = _connection(served.api)
    ident = {"connection_id": conn, "project_id": PROJECT}
    before = served.scrape()
    assert _value(before, "vpnaas_ipsec_site_connections", status="PENDING_CREATE") == 1
    assert _value(before, "vpnaas_ipsec_site_connection_tunnel_up", **ident) == 0
    assert ("vpnaas_agent_alive", (("host", "gw-metrics"),)) not in before
    reported = time.time()
    _report(served, router, conn, "ACTIVE", _child(conn, "1", 1000))
    up = served.scrape()
    assert _value(up, "vpnaas_database_up") == 1
    assert _value(up, "vpnaas_ipsec_site_connections", status="ACTIVE") == 1
    assert _value(up, "vpnaas_ipsec_site_connections", status="PENDING_CREATE") == 0
    assert _value(up, "vpnaas_ipsec_site_connection_tunnel_up", **ident) == 1
    assert _value(up, "vpnaas_agent_alive", host="gw-metrics") == 1
    beat = _value(up, "vpnaas_agent_last_heartbeat_timestamp_seconds", host="gw-metrics")
    assert reported - 2 <= beat <= time.time() + 1  # whole seconds in the database
    assert _value(up, "vpnaas_ipsec_site_connection_bytes_total", direction="in", **ident) == 1000
    _report(served, router, conn, "DOWN", _child(conn, "2", 300))  # rekeyed: a new SA from 0
    down = served.scrape()
    assert _value(down, "vpnaas_ipsec_site_connections", status="DOWN") == 1
    assert _value(down, "vpnaas_ipsec_site_connections", status="ACTIVE") == 0
    assert _value(down, "vpnaas_ipsec_site_connection_tunnel_up", **ident) == 0
    traffic = {
        (name, direction): _value(
            down, f"vpnaas_ipsec_site_connection_{name}_total", direction=direction, **ident
        )
        for name in ("bytes", "packets")
        for direction in ("in", "out")
    }
    assert traffic == {
        ("bytes", "in"): 1300,
        ("bytes", "out"): 2600,
        ("packets", "in"): 130,
        ("packets", "out"): 260,
    }
    reports = {"method": "POST", "route": "/agent/v1/reports", "status": "200"}
    assert _value(down, "vpnaas_agent_api_requests_total", **reports) == 2


def test_stopping_the_server_removes_the_metrics_directory(
    tmp_path: Path,
) -> None:
    config = {"metrics": {"enabled": "true", "bind_port": str(free_port())}}
    server = start_server(tmp_path, config=config)
    try:
        directory = _multiprocess_directory(server)
        assert directory.is_dir()
        assert os.stat(directory).st_mode & 0o077 == 0  # private to the server's user
    finally:
        server.stop()
    assert not directory.exists()
