"""End to end: a real ``vpnaas serve --driver strongswan``, a real ``vpnaas
agent`` per gateway and real charons, configured only through the API, for
IKEv2 and IKEv1 main mode (the issue's "must show" 1-6).

The world (module-scoped): two gateway namespaces (tests/support/ipsec.py),
one server whose external network is the gateways' WAN 192.0.2.0/24, a
router per gateway with its WAN address as external fixed IP and its LAN
subnet as interface, and an agent per router. Each test builds its own
policies, services and connections, walks the story, and deletes them.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.dataplane.conftest import (
    DATAPLANE,
    assert_one_ike_sa_each,
    assert_ping_blocked,
    assert_ping_only_esp,
    ike_sas,
    loaded,
    place,
)
from tests.support import ipsec
from tests.support.agent_process import AgentProcess
from tests.support.server import Response, ServerProcess, free_port, start_server
from vpnaas.agent.status import PEER_NOT_RESPONDING

pytestmark = DATAPLANE

PROJECT = "e2e0project"
HEADERS = {"X-Project-Id": PROJECT, "X-Roles": "admin,member", "X-User-Id": "e2e"}
PSK = "e2e-psk-0123456789"
REPORT_INTERVAL = 2
DPD_INTERVAL, DPD_TIMEOUT = 2, 6
DPD = {"action": "hold", "interval": DPD_INTERVAL, "timeout": DPD_TIMEOUT}


@dataclass
class World:
    gw: ipsec.Gateways
    workdir: Path
    config: dict[str, dict[str, str]]
    server: ServerProcess
    routers: dict[str, str]
    subnets: dict[str, str]
    agents: dict[str, AgentProcess]

    def api(self, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
        resp: Response = self.server.request(method, path, body, headers=HEADERS)
        if status is not None:
            assert resp.status == status, f"{method} {path}: {resp.status} {resp.body}"
        return resp.body

    def status(self, conn_id: str) -> str:
        body = self.api("GET", f"v2.0/vpn/ipsec-site-connections/{conn_id}", status=200)
        return str(body["ipsec_site_connection"]["status"])

    def tunnel(self, conn_id: str) -> dict[str, Any]:
        path = f"v2.0/vpn/ipsec-site-connections/{conn_id}/tunnel"
        doc: dict[str, Any] = self.api("GET", path, status=200)["tunnel"]
        return doc

    def wait_tunnel(self, conn_id: str, check: Any, timeout: float = 3 * REPORT_INTERVAL) -> Any:
        """The tunnel document once ``check`` accepts it."""
        deadline = time.monotonic() + timeout
        while not check(tunnel := self.tunnel(conn_id)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert check(tunnel), tunnel
        return tunnel

    def wait(self, conn_ids: list[str], status: str, timeout: float = 30.0) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if all(self.status(c) == status for c in conn_ids):
                return time.monotonic() - start
            time.sleep(0.1)
        got = {c: self.status(c) for c in conn_ids}
        logs = "\n".join(a.log()[-2500:] for a in self.agents.values())
        raise AssertionError(f"not {status} after {timeout}s: {got}\n{logs}")


def _topology(world: World) -> None:
    """The WAN as external network, and one router per gateway."""
    net = world.api(
        "POST", "v2.0/networks", {"network": {"name": "wan", "router:external": True}}, 201
    )
    wan = net["network"]["id"]
    world.api(
        "POST",
        "v2.0/subnets",
        {
            "subnet": {
                "network_id": wan,
                "cidr": "192.0.2.0/24",
                "ip_version": 4,
                "gateway_ip": "192.0.2.254",
            }
        },
        201,
    )
    for side, site in (("a", world.gw.a), ("b", world.gw.b)):
        lan = world.api("POST", "v2.0/networks", {"network": {"name": f"lan-{side}"}}, 201)
        subnet = world.api(
            "POST",
            "v2.0/subnets",
            {
                "subnet": {
                    "network_id": lan["network"]["id"],
                    "cidr": site.lan_cidr,
                    "ip_version": 4,
                }
            },
            201,
        )["subnet"]["id"]
        gateway = {"network_id": wan, "external_fixed_ips": [{"ip_address": site.wan}]}
        router = world.api(
            "POST",
            "v2.0/routers",
            {"router": {"name": f"r-{side}", "external_gateway_info": gateway}},
            201,
        )["router"]["id"]
        world.api("PUT", f"v2.0/routers/{router}/add_router_interface", {"subnet_id": subnet}, 200)
        world.routers[side], world.subnets[side] = router, subnet


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("e2e")
    agent_port = free_port()
    config = {
        "vpnaas": {"driver": "strongswan"},
        "agent_api": {"bind_port": str(agent_port), "agent_down_time": str(3 * REPORT_INTERVAL)},
    }
    with ipsec.gateways(**place("c", "d")) as gw:
        server = start_server(workdir, config=config)
        w = World(gw, workdir, config, server, {}, {}, {})
        try:
            _topology(w)
            for side, site in (("a", gw.a), ("b", gw.b)):
                w.agents[side] = AgentProcess(
                    site, w.routers[side], f"http://127.0.0.1:{agent_port}/"
                )
                w.agents[side].start()
            yield w
        finally:
            for agent in w.agents.values():
                agent.stop()
            w.server.stop()


def _create(world: World, version: str) -> dict[str, Any]:
    ike = world.api(
        "POST",
        "v2.0/vpn/ikepolicies",
        {"ikepolicy": {"name": f"ike-{version}", "ike_version": version}},
        201,
    )["ikepolicy"]["id"]
    ipsec_id = world.api("POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"name": "esp"}}, 201)
    ids: dict[str, Any] = {
        "ike": ike,
        "ipsec": ipsec_id["ipsecpolicy"]["id"],
        "svc": {},
        "conn": {},
    }
    for side, peer in (("a", world.gw.b), ("b", world.gw.a)):
        svc = world.api(
            "POST",
            "v2.0/vpn/vpnservices",
            {"vpnservice": {"router_id": world.routers[side], "subnet_id": world.subnets[side]}},
            201,
        )["vpnservice"]
        ids["svc"][side] = svc["id"]
        conn = world.api(
            "POST",
            "v2.0/vpn/ipsec-site-connections",
            {
                "ipsec_site_connection": {
                    "name": f"to-{peer.netns}",
                    "vpnservice_id": svc["id"],
                    "ikepolicy_id": ike,
                    "ipsecpolicy_id": ids["ipsec"],
                    "peer_address": peer.wan,
                    "peer_id": peer.wan,
                    "peer_cidrs": [peer.lan_cidr],
                    "psk": PSK,
                    "dpd": DPD,
                }
            },
            201,
        )["ipsec_site_connection"]
        assert conn["status"] == "PENDING_CREATE"
        ids["conn"][side] = conn["id"]
    return ids


def _children(site: ipsec.Site) -> list[tuple[str, str, str]]:
    return sorted(
        (str(c["spi-in"]), str(c["spi-out"]), str(c["state"]))
        for sa in ike_sas(site)
        for c in (sa.get("child-sas") or {}).values()
    )


def _admin(world: World, conns: list[str], up: bool) -> None:
    for conn in conns:
        body = {"ipsec_site_connection": {"admin_state_up": up}}
        world.api("PUT", f"v2.0/vpn/ipsec-site-connections/{conn}", body, 200)


def _step1_up(world: World, conns: list[str], version: str) -> None:
    took = world.wait(conns, "ACTIVE")
    print(f"[{version}] created through the API: both ACTIVE after {took:.2f}s")
    before = world.wait_tunnel(conns[0], lambda t: t["child_sas"] and t["ike_sa"])
    assert_ping_only_esp(world.gw)
    after = world.wait_tunnel(conns[0], lambda t: t["packets_out"] >= before["packets_out"] + 20)
    assert after["bytes_out"] >= before["bytes_out"] + 20 * 84  # 20 echo requests of 84 bytes
    assert after["bytes_in"] >= before["bytes_in"] + 20 * 84
    assert after["ike_sa"]["state"] == "ESTABLISHED"
    assert after["ike_sa"]["version"] == int(version[1])
    assert (after["local_address"], after["peer_address"]) == (world.gw.a.wan, world.gw.b.wan)
    assert after["nat_t"] is True  # kernel-libipsec always encapsulates
    assert after["ike_proposal"]
    assert after["esp_proposal"]
    assert after["established_at"] is not None
    assert after["next_rekey_at"] > after["established_at"]
    assert after["agent"]["host"] == f"gw-{world.agents['a'].site.netns}"
    assert after["agent"]["alive"] is True
    assert all(c["spi_in"] and c["spi_out"] for c in after["child_sas"])
    assert after["effective_mtu"] == 1500
    assert after["effective_dpd_timeout"] > 0
    print(
        f"[{version}] tunnel: {after['bytes_out'] - before['bytes_out']} bytes out for 20 "
        f"pings, ESP {after['esp_proposal']}, DPD timeout {after['effective_dpd_timeout']}s"
    )


def _step2_admin_down(world: World, conns: list[str], version: str) -> None:
    _admin(world, conns, False)
    world.wait(conns, "DOWN")
    assert ike_sas(world.gw.a) == []
    assert ike_sas(world.gw.b) == []
    assert_ping_blocked(world.gw)
    _admin(world, conns, True)
    took = world.wait(conns, "ACTIVE")
    print(f"[{version}] admin up again: ACTIVE after {took:.2f}s")


def _step3_peer_dies(world: World, ids: dict[str, Any], version: str) -> None:
    gw = world.gw
    stop = threading.Event()
    pinger = threading.Thread(
        target=lambda: [gw.a.ping(gw.b.lan, 5, 0.2) for _ in iter(stop.is_set, True)]
    )
    with ipsec.Capture(gw.a) as cap:
        pinger.start()
        killed = time.monotonic()
        gw.b.kill_charon(signal.SIGKILL)
        took = world.wait([ids["conn"]["a"]], "DOWN", timeout=30)
        stop.set()
        pinger.join()
    effective = DPD_INTERVAL + ipsec.RETRANSMIT_TIMEOUT * sum(1.8**n for n in range(3))
    if version == "v1":
        effective = DPD_INTERVAL + DPD_TIMEOUT
    since_kill = time.monotonic() - killed
    print(f"[{version}] peer charon killed: DOWN after {since_kill:.2f}s (DPD {effective:.1f}s)")
    assert took <= effective + 2 * REPORT_INTERVAL  # detected by DPD, reported within a report
    assert cap.cleartext_icmp == 0, cap.lines[:5]
    gw.b.start_charon()
    took = world.wait(list(ids["conn"].values()), "ACTIVE")
    print(f"[{version}] peer charon restarted: both ACTIVE after {took:.2f}s")
    assert_one_ike_sa_each(gw)
    history = world.tunnel(ids["conn"]["a"])["history"]
    assert history[0]["status"] == "ACTIVE"
    down = next(h for h in history if h["reason"] == PEER_NOT_RESPONDING)
    assert down["status"] == "DOWN"
    assert down["at"] <= history[0]["at"]
    print(
        f"[{version}] history: DOWN ({down['reason']}) at {down['at']}, "
        f"ACTIVE at {history[0]['at']}"
    )


def _watch(world: World, conns: list[str], stop: threading.Event, seen: set[str]) -> None:
    while not stop.is_set():
        seen.update(world.status(c) for c in conns)
        time.sleep(0.2)


def _step4_restarts(world: World, conns: list[str], version: str) -> None:
    before = _children(world.gw.a)
    seen: set[str] = set()
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(world, conns, stop, seen))
    watcher.start()
    try:
        world.agents["a"].stop(signal.SIGKILL)
        world.agents["a"].start()
        time.sleep(2 * REPORT_INTERVAL)
    finally:
        stop.set()
        watcher.join()
    assert seen == {"ACTIVE"}  # no flap
    assert _children(world.gw.a) == before  # the same SAs: nothing was re-established
    world.server.stop(timeout=2.0)  # its agent listener holds long polls: do not wait for them
    assert_ping_only_esp(world.gw)  # the tunnel does not need the server
    stopped = time.monotonic()
    world.server = start_server(world.workdir, config=world.config)
    first = {world.status(c) for c in conns}
    took = world.wait(conns, "ACTIVE", timeout=3 * REPORT_INTERVAL)
    assert _children(world.gw.a) == before
    print(
        f"[{version}] agent restart: SPIs unchanged, statuses seen {sorted(seen)}; server "
        f"down {time.monotonic() - stopped - took:.1f}s, first answers {sorted(first)}, "
        f"ACTIVE {took:.2f}s later"
    )


def _step5_updates(world: World, ids: dict[str, Any], version: str) -> None:
    """Each update is made once the previous one is applied (a connection
    in PENDING_UPDATE cannot be updated again, as in Neutron)."""
    gw = world.gw
    pids = (gw.a.pid, gw.b.pid)
    conns = list(ids["conn"].values())
    lifetime = {"ipsecpolicy": {"lifetime": {"units": "seconds", "value": 1800}}}
    world.api("PUT", f"v2.0/vpn/ipsecpolicies/{ids['ipsec']}", lifetime, 200)
    took = [world.wait(conns, "ACTIVE")]
    for conn in conns:
        body = {"ipsec_site_connection": {"psk": "a-changed-psk-0987654321"}}
        world.api("PUT", f"v2.0/vpn/ipsec-site-connections/{conn}", body, 200)
    took.append(world.wait(conns, "ACTIVE"))
    assert_ping_only_esp(world.gw)
    narrower = {"ipsec_site_connection": {"peer_cidrs": ["10.2.0.0/25"]}}
    world.api("PUT", f"v2.0/vpn/ipsec-site-connections/{ids['conn']['a']}", narrower, 200)
    took.append(world.wait(conns, "ACTIVE"))
    print(
        f"[{version}] lifetime, psk, peer CIDRs updated: ACTIVE after "
        + ", ".join(f"{t:.2f}s" for t in took)
    )
    deadline = time.monotonic() + 10
    while "10.2.0.0/25 dev ipsec0" not in gw.a.routes("220") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "10.2.0.0/25 dev ipsec0" in gw.a.routes("220")
    children = [c for sa in ike_sas(gw.a) for c in (sa.get("child-sas") or {}).values()]
    assert {c["life-time"] for c in children if c["state"] == "INSTALLED"} <= {"1800", "1799"}
    assert "unreachable 10.2.0.0/25" in gw.a.routes("221")
    assert (gw.a.pid, gw.b.pid) == pids
    assert gw.a.charon_alive()
    assert gw.b.charon_alive()
    assert_ping_only_esp(world.gw)


REFUSED = [
    ("POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"transform_protocol": "ah"}}),
    ("POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"transform_protocol": "ah-esp"}}),
    ("POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"encapsulation_mode": "transport"}}),
    (
        "POST",
        "v2.0/vpn/ikepolicies",
        {"ikepolicy": {"ike_version": "v1", "encryption_algorithm": "aes-128-gcm-16"}},
    ),
    (
        "POST",
        "v2.0/vpn/ikepolicies",
        {"ikepolicy": {"ike_version": "v1", "auth_algorithm": "aes-xcbc"}},
    ),
    ("POST", "v2.0/vpn/ikepolicies", {"ikepolicy": {"phase1_negotiation_mode": "aggressive"}}),
]


def _step6_refusals_and_delete(world: World, ids: dict[str, Any], version: str) -> None:
    for method, path, body in REFUSED:
        assert world.server.request(method, path, body, headers=HEADERS).status == 400, body
    conn: dict[str, Any] = {
        "vpnservice_id": ids["svc"]["a"],
        "ikepolicy_id": ids["ike"],
        "ipsecpolicy_id": ids["ipsec"],
        "psk": PSK,
        "peer_id": "192.0.2.9",
    }
    extras: list[dict[str, Any]] = [
        {"peer_address": "2001:db8::9", "peer_cidrs": ["10.9.0.0/24"]},  # IPv6
        {"peer_address": "192.0.2.9", "peer_cidrs": ["10.2.0.0/26"]},  # overlaps 10.2.0.0/25
    ]
    for extra in extras:
        body = {"ipsec_site_connection": {**conn, **extra}}
        resp = world.server.request(
            "POST", "v2.0/vpn/ipsec-site-connections", body, headers=HEADERS
        )
        assert resp.status == 400, resp.body
    transport = {"ipsecpolicy": {"encapsulation_mode": "transport"}}
    resp = world.server.request(
        "PUT", f"v2.0/vpn/ipsecpolicies/{ids['ipsec']}", transport, headers=HEADERS
    )
    assert resp.status == 400, resp.body
    for conn_id in ids["conn"].values():
        world.api("DELETE", f"v2.0/vpn/ipsec-site-connections/{conn_id}", status=204)
    deadline = time.monotonic() + 15
    sites = (world.gw.a, world.gw.b)
    while any(ike_sas(s) or loaded(s) != ([], []) for s in sites) and time.monotonic() < deadline:
        time.sleep(0.1)
    for site in sites:
        assert ike_sas(site) == []
        assert loaded(site) == ([], [])
        assert site.routes("221").strip() == ""
    for svc in ids["svc"].values():
        world.api("DELETE", f"v2.0/vpn/vpnservices/{svc}", status=204)
    world.api("DELETE", f"v2.0/vpn/ikepolicies/{ids['ike']}", status=204)
    world.api("DELETE", f"v2.0/vpn/ipsecpolicies/{ids['ipsec']}", status=204)
    print(f"[{version}] refusals answered 400; delete removed SAs, secrets and fail-closed routes")


@pytest.mark.parametrize(
    "version", [pytest.param("v2", id="ikev2"), pytest.param("v1", id="ikev1-main")]
)
def test_must_show(world: World, version: str) -> None:
    ids = _create(world, version)
    conns = list(ids["conn"].values())
    _step1_up(world, conns, version)
    _step2_admin_down(world, conns, version)
    _step3_peer_dies(world, ids, version)
    _step4_restarts(world, conns, version)
    _step5_updates(world, ids, version)
    _step6_refusals_and_delete(world, ids, version)


def test_a_peer_from_the_swanctl_export_alone(world: World) -> None:
    """Side b runs no agent: its charon loads only the swanctl export of
    side a's connection (``swanctl --load-all``), and a reaches ACTIVE."""
    ids = _create_one_sided(world)
    conn = ids["conn"]
    path = f"v2.0/vpn/ipsec-site-connections/{conn}/peer-config?format=swanctl&include_psk=true"
    resp = world.server.request("GET", path, headers=HEADERS)
    assert resp.status == 200
    site = world.gw.b
    world.agents["b"].stop()
    site.kill_charon()  # a clean charon with nothing the agent loaded
    site.start_charon()
    try:
        config = site.dir / "swanctl" / "swanctl.conf"
        config.parent.mkdir(exist_ok=True)
        config.write_text(resp.body)
        loaded_by = ipsec.run(
            "swanctl", "--load-all", "--file", str(config), "--uri", site.vici, check=False
        )
        assert loaded_by.returncode == 0, loaded_by.stdout + loaded_by.stderr
        took = world.wait([conn], "ACTIVE")
        print(f"peer from the swanctl export alone: ACTIVE after {took:.2f}s")
        assert_ping_only_esp(world.gw)
    finally:
        world.api("DELETE", f"v2.0/vpn/ipsec-site-connections/{conn}", status=204)
        world.api("DELETE", f"v2.0/vpn/vpnservices/{ids['svc']}", status=204)
        world.api("DELETE", f"v2.0/vpn/ikepolicies/{ids['ike']}", status=204)
        world.api("DELETE", f"v2.0/vpn/ipsecpolicies/{ids['ipsec']}", status=204)
        site.kill_charon()
        site.start_charon()
        world.agents["b"].start()


def _create_one_sided(world: World) -> dict[str, Any]:
    ike = world.api("POST", "v2.0/vpn/ikepolicies", {"ikepolicy": {"name": "exp"}}, 201)
    esp = world.api("POST", "v2.0/vpn/ipsecpolicies", {"ipsecpolicy": {"name": "exp"}}, 201)
    svc = world.api(
        "POST",
        "v2.0/vpn/vpnservices",
        {"vpnservice": {"router_id": world.routers["a"], "subnet_id": world.subnets["a"]}},
        201,
    )["vpnservice"]["id"]
    body = {
        "ipsec_site_connection": {
            "vpnservice_id": svc,
            "ikepolicy_id": ike["ikepolicy"]["id"],
            "ipsecpolicy_id": esp["ipsecpolicy"]["id"],
            "peer_address": world.gw.b.wan,
            "peer_id": world.gw.b.wan,
            "peer_cidrs": [world.gw.b.lan_cidr],
            "psk": PSK,
            "dpd": DPD,
        }
    }
    conn = world.api("POST", "v2.0/vpn/ipsec-site-connections", body, 201)
    return {
        "ike": ike["ikepolicy"]["id"],
        "ipsec": esp["ipsecpolicy"]["id"],
        "svc": svc,
        "conn": conn["ipsec_site_connection"]["id"],
    }
