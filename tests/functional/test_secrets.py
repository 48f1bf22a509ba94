"""The psk never reaches a log line, even with SQL statement logging on."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from falcon import testing

from tests.support import matrix

PSK = "TOP-SECRET-PSK-4f9c2a"
HEADERS = {"X-Project-Id": "secret-project"}


def test_the_psk_is_not_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app, public = matrix.serve(tmp_path)
    client = testing.TestClient(app)

    def make(path: str, member: str, body: dict[str, object]) -> str:
        made = client.simulate_post(path, json={member: body}, headers=HEADERS)
        assert made.status_code == 201, made.text
        return str(made.json[member]["id"])

    net = make("/v2.0/networks", "network", {})
    subnet = make(
        "/v2.0/subnets", "subnet", {"network_id": net, "cidr": "10.5.0.0/24", "ip_version": 4}
    )
    router = make("/v2.0/routers", "router", {"external_gateway_info": {"network_id": public}})
    client.simulate_put(
        f"/v2.0/routers/{router}/add_router_interface", json={"subnet_id": subnet}, headers=HEADERS
    )
    service = make(
        "/v2.0/vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet}
    )
    ike = make("/v2.0/vpn/ikepolicies", "ikepolicy", {})
    ipsec = make("/v2.0/vpn/ipsecpolicies", "ipsecpolicy", {})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
        try:
            conn = make(
                "/v2.0/vpn/ipsec-site-connections",
                "ipsec_site_connection",
                {
                    "vpnservice_id": service,
                    "ikepolicy_id": ike,
                    "ipsecpolicy_id": ipsec,
                    "peer_address": "172.24.4.9",
                    "peer_id": "p",
                    "psk": PSK,
                    "peer_cidrs": ["10.6.0.0/24"],
                },
            )
            client.simulate_put(
                f"/v2.0/vpn/ipsec-site-connections/{conn}",
                json={"ipsec_site_connection": {"psk": PSK + "-2"}},
                headers=HEADERS,
            )
            client.simulate_get("/v2.0/vpn/ipsec-site-connections", headers=HEADERS)
        finally:
            logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert any("INSERT INTO ipsec_site_connections" in r.getMessage() for r in caplog.records)
    assert PSK not in caplog.text
