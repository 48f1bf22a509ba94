"""The desired-state document typed (``vpnaas.ipsec.desired``): what a
missing key means, the admin states folded in, the order, and the IKE
groups' names (docs/agent-protocol.md)."""

from __future__ import annotations

from typing import Any

from tests.support import desired_state as ds
from vpnaas.ipsec.desired import Policy, group_connections, group_name, parse_state

POLICY = {"auth_algorithm": "sha256", "encryption_algorithm": "aes-128", "pfs": "group14"}


def _bare(conn_id: str, **extra: Any) -> dict[str, Any]:
    """A connection with only the keys the document must carry."""
    return {
        "id": conn_id,
        "revision": f"rev-{conn_id}",
        "peer_address": "192.0.2.9",
        "ikepolicy": POLICY,
        "ipsecpolicy": POLICY,
        **extra,
    }


def _doc(*connections: dict[str, Any], service_up: bool = True) -> dict[str, Any]:
    service = {"id": "s1", "admin_state_up": service_up, "connections": list(connections)}
    return {
        "revision": 7,
        "routers": [{"id": "r1", "local_address": "192.0.2.1", "services": [service]}],
    }


def test_desired_missing_keys_take_the_apis_defaults() -> None:
    state = parse_state(_doc(_bare("c1")))
    (conn,) = state.connections
    assert state.revision == "7"
    assert (conn.router_id, conn.service_id, conn.enabled) == ("r1", "s1", True)
    # the router's address stands in for the connection's, ids default to addresses
    assert (conn.local_address, conn.local_id, conn.peer_id) == (
        "192.0.2.1",
        "192.0.2.1",
        "192.0.2.9",
    )
    assert (conn.local_cidrs, conn.peer_cidrs, conn.psk) == ((), (), "")
    assert (conn.mtu, conn.initiator, conn.split_selector) == (1500, "bi-directional", False)
    assert (conn.dpd_action, conn.dpd_interval, conn.dpd_timeout) == ("hold", 30, 120)
    assert conn.ikepolicy == Policy("sha256", "aes-128", "group14", "seconds", 3600)
    assert (conn.ipsecpolicy.transform_protocol, conn.ipsecpolicy.encapsulation_mode) == (
        "esp",
        "tunnel",
    )


def test_desired_given_keys_win_over_the_defaults() -> None:
    doc = _bare(
        "c1",
        local_address="192.0.2.5",
        local_id="@left",
        mtu="1400",
        dpd={"action": "restart", "interval": "5"},
        ikepolicy={**POLICY, "ike_version": "v1", "lifetime": {"value": "600"}},
    )
    (conn,) = parse_state(_doc(doc)).connections
    assert (conn.local_address, conn.local_id) == ("192.0.2.5", "@left")
    assert (conn.mtu, conn.dpd_action, conn.dpd_interval, conn.dpd_timeout) == (
        1400,
        "restart",
        5,
        120,
    )
    assert (conn.ikepolicy.ike_version, conn.ikepolicy.lifetime_value) == ("v1", 600)
    assert conn.ikepolicy.lifetime_units == "seconds"


def test_desired_a_connection_is_enabled_only_with_its_service() -> None:
    up, down = _bare("c1"), _bare("c2", admin_state_up=False)
    assert [c.enabled for c in parse_state(_doc(up, down)).connections] == [True, False]
    assert [c.enabled for c in parse_state(_doc(up, service_up=False)).connections] == [False]


def test_desired_routers_are_listed_and_connections_sorted_by_id() -> None:
    doc = _doc(_bare("c3"), _bare("c1"), _bare("c2"))
    doc["routers"].append({"id": "r2"})  # a router without services
    state = parse_state(doc)
    assert state.routers == ("r1", "r2")
    assert [c.id for c in state.connections] == ["c1", "c2", "c3"]
    assert parse_state({}).connections == ()
    assert parse_state({}).routers == ()


def test_desired_repr_never_shows_the_psk() -> None:
    (conn,) = parse_state(_doc(_bare("c1", psk="do-not-log-me"))).connections
    assert "do-not-log-me" not in repr(conn)
    assert "do-not-log-me" not in repr(parse_state(_doc(_bare("c1", psk="do-not-log-me"))))


def test_desired_group_names_are_a_digest_of_the_key_alone() -> None:
    key = ("r1", "192.0.2.1", "192.0.2.9", "192.0.2.1", "192.0.2.9")
    name = group_name(key)
    assert name.startswith("vpn-")
    assert len(name) == len("vpn-") + 20
    assert group_name(list(key)) == name
    assert group_name((*key[:4], "@other")) != name
    # separators are part of the key: shifting text between parts renames
    assert group_name(("r1", "a", "b", "c", "d")) != group_name(("r1a", "", "b", "c", "d"))


def test_desired_groups_split_by_endpoint_and_identity() -> None:
    conns = parse_state(
        _doc(
            _bare("c1"),
            _bare("c2", peer_id="@elsewhere"),
            _bare("c3"),
            _bare("c4", peer_address="192.0.2.10"),
        )
    ).connections
    groups = group_connections(conns)
    assert [[c.id for c in g.connections] for g in groups] == [["c1", "c3"], ["c2"], ["c4"]]
    assert groups[0].first.id == "c1"
    assert groups[0].secret_id == f"psk-{groups[0].name}"
    assert group_connections(list(reversed(conns))) == groups


def test_desired_tests_documents_parse_as_the_servers() -> None:
    """The documents tests build (tests/support/desired_state.py) carry
    every key, so none falls back to a default."""
    doc = ds.connection("c1", local="192.0.2.1", peer="192.0.2.2", local_cidrs=[], peer_cidrs=[])
    (conn,) = parse_state(ds.state("r1", doc)).connections
    assert (conn.dpd_action, conn.dpd_interval, conn.dpd_timeout) == ("restart", 2, 6)
    assert conn.psk == doc["psk"]
