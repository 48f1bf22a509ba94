# ruff: noqa: F811 (the world fixture is imported under its own name)
"""The tunnel view filled by agents' reports (counters across rekeys and
agent restarts, history, rekey times), and the peer configuration's
libreswan syntax read back by a small ipsec.conf parser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.functional.test_agent_api import PROJECT, World, world  # noqa: F401 (fixture)
from tests.support import matrix

SINCE = "2026-12-07T00:00:00Z"


def _child(
    uid: str, name: str, bytes_in: int, installed: str = "2026-12-07T00:01:00Z"
) -> dict[str, Any]:
    return {
        "name": name,
        "uniqueid": uid,
        "state": "INSTALLED",
        "installed_at": installed,
        "rekey_at": "2026-12-07T01:00:00Z",
        "proposal": "AES_CBC-128/HMAC_SHA2_256_128",
        "bytes_in": bytes_in,
        "bytes_out": bytes_in * 2,
        "packets_in": 1,
        "packets_out": 2,
    }


def _report(world: World, status: str, children: list[dict[str, Any]], since: str = SINCE) -> None:
    ike = {
        "uniqueid": "1",
        "state": "ESTABLISHED",
        "local_host": world.gateway_ip,
        "remote_host": "172.24.4.200",
        "nat_t": True,
        "established_at": "2026-12-07T00:00:30Z",
        "rekey_at": "2026-12-07T00:59:00Z",
        "proposal": "AES_CBC-128/HMAC_SHA2_256_128/MODP_2048",
    }
    entry = {
        "id": world.connection,
        "revision": world.connection_doc()["revision"],
        "status": status,
        "reason": None if status == "ACTIVE" else "peer not responding",
        "telemetry": {"ike_sa": ike, "child_sas": children, "mtu": 1400, "dpd_timeout": 150},
    }
    body = {
        "host": "gw-a",
        "routers": [world.router],
        "connections": [entry],
        "configurations": {"charon_since": since},
    }
    result = world.agents.simulate_post("/agent/v1/reports", json=body)
    assert result.status_code == 200, result.text
    assert result.json["accepted"] == [world.connection]


def _tunnel(world: World) -> dict[str, Any]:
    path = f"/v2.0/vpn/ipsec-site-connections/{world.connection}/tunnel"
    result = world.api.simulate_get(path, headers=PROJECT)
    assert result.status_code == 200, result.text
    doc: dict[str, Any] = result.json["tunnel"]
    return doc


def test_counters_add_up_across_rekeys_and_agent_restarts(world: World) -> None:
    conn = world.connection
    _report(world, "ACTIVE", [_child("5", conn, 100)])
    _report(world, "ACTIVE", [_child("5", conn, 300)])  # grew: counted once
    _report(world, "ACTIVE", [_child("5", conn, 300)])  # an agent restart reports it again
    _report(world, "ACTIVE", [_child("6", conn, 50, "2026-12-07T00:50:00Z")])  # rekeyed
    tunnel = _tunnel(world)
    assert (tunnel["bytes_in"], tunnel["bytes_out"]) == (350, 700)
    assert tunnel["last_rekey_at"] == "2026-12-07T00:50:00Z"
    assert tunnel["next_rekey_at"] == "2026-12-07T00:59:00Z"
    _report(world, "ACTIVE", [_child("5", conn, 10)], since="2026-12-07T02:00:00Z")  # new charon
    tunnel = _tunnel(world)
    assert tunnel["bytes_in"] == 360
    assert tunnel["agent"]["host"] == "gw-a"
    assert tunnel["agent"]["alive"] is True
    assert (tunnel["effective_mtu"], tunnel["effective_dpd_timeout"]) == (1400, 150)
    assert (tunnel["local_address"], tunnel["peer_address"]) == (world.gateway_ip, "172.24.4.200")
    assert tunnel["nat_t"] is True
    assert tunnel["esp_proposal"] == "AES_CBC-128/HMAC_SHA2_256_128"


def test_history_keeps_status_changes_newest_first(world: World) -> None:
    _report(world, "ACTIVE", [_child("1", world.connection, 1)])
    _report(world, "DOWN", [])
    _report(world, "DOWN", [])  # no change, no entry
    _report(world, "ACTIVE", [_child("2", world.connection, 1)])
    tunnel = _tunnel(world)
    assert [(h["status"], h["reason"]) for h in tunnel["history"]] == [
        ("ACTIVE", None),
        ("DOWN", "peer not responding"),
        ("ACTIVE", None),
    ]
    assert tunnel["last_status_change"] == tunnel["history"][0]["at"]
    assert tunnel["status"] == "ACTIVE"
    assert tunnel["data_plane"] == "strongswan"


def test_a_telemetry_that_is_not_an_object_is_refused(world: World) -> None:
    entry = {"id": world.connection, "revision": "x", "status": "DOWN", "telemetry": [1]}
    body = {"host": "gw-a", "routers": [world.router], "connections": [entry]}
    result = world.agents.simulate_post("/agent/v1/reports", json=body)
    assert result.status_code == 400
    assert result.json["NeutronError"]["type"] == "InvalidAgentRequest"


def parse_ipsec_conf(text: str) -> dict[str, dict[str, str]]:
    """ipsec.conf sections: ``conn NAME`` / ``config setup`` lines at the
    left margin, then indented ``key=value`` lines; ``#`` comments."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            match = re.fullmatch(r"(conn|config) ([A-Za-z0-9_.-]+)", line)
            assert match, f"line {number}: not a section header: {line!r}"
            current = sections.setdefault(line, {})
            continue
        match = re.fullmatch(r"\s+([a-z0-9_-]+)=(\S.*)", line)
        assert match, f"line {number}: not key=value: {line!r}"
        assert current is not None, f"line {number}: a setting outside any section"
        assert match.group(1) not in current, f"line {number}: {match.group(1)} twice"
        current[match.group(1)] = match.group(2)
    return sections


def test_the_libreswan_export_parses_and_mirrors_the_connection(world: World) -> None:
    _report(world, "ACTIVE", [])  # settled: the connection may be updated
    world.update(
        f"/vpn/ipsec-site-connections/{world.connection}",
        "ipsec_site_connection",
        {"peer_cidrs": ["10.2.0.0/24", "10.3.0.0/24"], "split_selector": True},
    )
    path = f"/v2.0/vpn/ipsec-site-connections/{world.connection}/peer-config"
    result = world.api.simulate_get(path, params={"format": "libreswan"}, headers=PROJECT)
    assert result.status_code == 200, result.text
    assert "s3cret-of-a" not in result.text
    sections = parse_ipsec_conf(result.text)
    conns = {name: keys for name, keys in sections.items() if name.startswith("conn ")}
    assert sorted(conns) == [f"conn vpn-{world.connection}-0", f"conn vpn-{world.connection}-1"]
    subnets = sorted(c["leftsubnets"] for c in conns.values())
    assert subnets == ["{10.2.0.0/24}", "{10.3.0.0/24}"]
    for keys in conns.values():
        assert (keys["left"], keys["leftid"]) == ("172.24.4.200", "172.24.4.200")
        assert (keys["right"], keys["rightid"]) == (world.gateway_ip, world.gateway_ip)
        assert keys["rightsubnets"] == "{10.1.0.0/24}"
        assert keys["keyexchange"] == "ikev2"
        assert keys["authby"] == "secret"
        assert keys["ike"] == "aes128-sha2_256;modp1536"
        assert keys["phase2alg"] == "aes128-sha2_256;modp1536"
    with_psk = world.api.simulate_get(
        path, params={"format": "libreswan", "include_psk": "true"}, headers=PROJECT
    )
    assert 'PSK "s3cret-of-a"' in with_psk.text


def test_the_psk_rule_decides_who_exports_the_psk(tmp_path: Path) -> None:
    """An operator lets readers see connections; the psk stays theirs to
    refuse, and its own rule, not the read rule, decides."""
    policy = matrix.PolicyFile(tmp_path / "policy.yaml")
    policy.write({"get_ipsec_site_connection": "rule:admin_only or project_id:%(project_id)s"})
    world = matrix.build(matrix.noauth_world(tmp_path, policy_file=policy.path))
    try:
        path = f"/v2.0/vpn/ipsec-site-connections/{world.objects['ipsec_site_connection']}"
        world.expect(matrix.READER, "GET", f"{path}/tunnel", 200)
        plain = world.call(matrix.READER, "GET", f"{path}/peer-config", format="text")
        assert plain.status_code == 200
        assert "(the psk is left out" in plain.text
        refused = world.expect(matrix.READER, "GET", f"{path}/peer-config", 403, include_psk="true")
        assert refused["NeutronError"]["type"] == "PolicyNotAuthorized"
        assert "secret" not in refused["NeutronError"]["message"].replace(":psk", "")
        owner = world.call(matrix.OWNER, "GET", f"{path}/peer-config", include_psk="true")
        assert "secret = secret" in owner.text
        policy.write(
            {
                "get_ipsec_site_connection": "rule:admin_only or project_id:%(project_id)s",
                "get_ipsec_site_connection:psk": "rule:admin_only",
            }
        )
        world.expect(matrix.OWNER, "GET", f"{path}/peer-config", 403, include_psk="true")
        admin = world.call(matrix.ADMIN, "GET", f"{path}/peer-config", include_psk="true")
        assert "secret = secret" in admin.text
    finally:
        world.close()
