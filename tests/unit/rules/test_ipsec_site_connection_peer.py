"""A connection's peer address: an IP literal as given, a host name
resolved (from the configured hosts file only) and stored as its address,
and a gateway address of the peer's IP version on the service's router
(``docs/api/ipsec-site-connections.md`` §peer-address, §update)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.rules.conftest import World, connection_doc
from vpnaas import errors
from vpnaas.rules.ipsec_site_connection import ConnectionRules, resolve_peer


def _connection(world: World, service: str, peer_address: str, peer_cidr: str) -> dict[str, Any]:
    doc = connection_doc(
        service, *world.policies(), peer_address=peer_address, peer_cidrs=[peer_cidr]
    )
    return world.prepared("ipsec_site_connection", **doc)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param("203.0.113.9", "203.0.113.9", id="v4-literal"),
        pytest.param("2001:db8:77::9", "2001:db8:77::9", id="v6-literal"),
        pytest.param("peer.example.test", "198.51.100.7", id="name"),
        pytest.param("PEER.example.test.", "198.51.100.7", id="name-any-case-trailing-dot"),
        pytest.param("peer-alias", "198.51.100.7", id="alias"),
        pytest.param("peer6.example.test", "2001:db8:77::7", id="v6-name"),
    ],
)
def test_peer_address_is_stored_as_an_address(world: World, given: str, stored: str) -> None:
    service = world.service("router", "subnet_v6" if ":" in stored else "subnet")
    cidr = "2001:db8:99::/64" if ":" in stored else "10.99.0.0/24"
    obj = _connection(world, service, given, cidr)
    with world.writing() as env:
        ConnectionRules().on_create(env, obj)
    assert obj["peer_address"] == stored


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("unknown.example.test", id="unknown-name"),
        pytest.param("fe80::1%eth0", id="zone-index"),
        pytest.param("bad_name!", id="bad-character"),
        pytest.param("-", id="dash"),
        pytest.param("a" * 64 + ".example.test", id="label-over-63"),
    ],
)
def test_peer_address_not_resolved(world: World, address: str) -> None:
    obj = _connection(world, world.service("router", "subnet"), address, "10.99.0.0/24")
    with world.writing() as env, pytest.raises(errors.VPNPeerAddressNotResolved) as raised:
        ConnectionRules().on_create(env, obj)
    assert raised.value.message == f"Peer address {address} cannot be resolved"


def test_peer_address_needs_a_gateway_address_of_its_version(world: World) -> None:
    """router_v4's gateway has an IPv4 address only."""
    service = world.service("router_v4", "subnet_r4")
    for address in ("2001:db8:77::9", "peer6.example.test"):
        obj = _connection(world, service, address, "10.99.0.0/24")
        with world.writing() as env, pytest.raises(errors.ExternalNetworkHasNoSubnet) as raised:
            ConnectionRules().on_create(env, obj)
        router = world.ids["router_v4"]
        assert raised.value.message == f"Router's {router} external network has no IPv6 subnet"


def test_peer_address_on_update_is_resolved_when_sent(world: World) -> None:
    conn = world.connection(world.service("router", "subnet"), *world.policies())
    current = world.stored("ipsec_site_connection", conn)
    changes: dict[str, Any] = {"peer_address": "peer.example.test"}
    with world.writing() as env:
        ConnectionRules().on_update(env, current, changes)
        assert changes == {"peer_address": "198.51.100.7"}
        with pytest.raises(errors.VPNPeerAddressNotResolved):
            ConnectionRules().on_update(env, current, {"peer_address": "unknown.example.test"})


def test_resolve_peer_reads_only_the_hosts_file_given(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "# a comment line\n"
        "not-an-ip  skipped.example.test\n"
        "192.0.2.1  first.example.test  # trailing comment\n"
        "192.0.2.2  first.example.test second.example.test\n",
        encoding="utf-8",
    )
    assert resolve_peer("first.example.test", str(hosts)) == "192.0.2.1"
    assert resolve_peer("second.example.test", str(hosts)) == "192.0.2.2"
    for name in ("skipped.example.test", "localhost", "comment"):
        with pytest.raises(errors.VPNPeerAddressNotResolved):
            resolve_peer(name, str(hosts))
    with pytest.raises(errors.VPNPeerAddressNotResolved):  # an unreadable file resolves nothing
        resolve_peer("first.example.test", str(tmp_path / "missing"))
