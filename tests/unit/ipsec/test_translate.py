"""The API → VICI translation, table by table, for every enumeration value
the API accepts (legacy algorithms included)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support import desired_state as ds
from vpnaas.ipsec import translate
from vpnaas.ipsec.desired import (
    Connection,
    Group,
    Policy,
    group_connections,
    group_name,
    parse_state,
)
from vpnaas.spec import vpn

A, B = "192.0.2.1", "192.0.2.2"


def _conn(**extra: Any) -> Connection:
    doc = ds.connection(
        "c1", local=A, peer=B, local_cidrs=["10.1.0.0/24"], peer_cidrs=["10.2.0.0/24"], **extra
    )
    return parse_state(ds.state("r1", doc)).connections[0]


def _policy(**changes: Any) -> Policy:
    base = Policy("sha256", "aes-128", "group14", "seconds", 3600)
    return replace(base, **changes)


ENCRYPTION = {
    "3des": "3des",
    "aes-128": "aes128",
    "aes-192": "aes192",
    "aes-256": "aes256",
    "aes-128-ctr": "aes128ctr",
    "aes-192-ctr": "aes192ctr",
    "aes-256-ctr": "aes256ctr",
    **{
        f"aes-{bits}-{mode}-{icv}": f"aes{bits}{mode}{icv}"
        for mode in ("ccm", "gcm")
        for icv in (8, 12, 16)
        for bits in (128, 192, 256)
    },
}
INTEGRITY = {
    "sha1": "sha1",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "aes-xcbc": "aesxcbc",
    "aes-cmac": "aescmac",
}
DH = {
    "group2": "modp1024",
    "group5": "modp1536",
    "group14": "modp2048",
    "group15": "modp3072",
    "group16": "modp4096",
    "group17": "modp6144",
    "group18": "modp8192",
    "group19": "ecp256",
    "group20": "ecp384",
    "group21": "ecp521",
    "group22": "modp1024s160",
    "group23": "modp2048s224",
    "group24": "modp2048s256",
    "group25": "ecp192",
    "group26": "ecp224",
    "group27": "ecp224bp",
    "group28": "ecp256bp",
    "group29": "ecp384bp",
    "group30": "ecp512bp",
    "group31": "curve25519",
}


def test_tables_cover_every_enumeration_value() -> None:
    assert set(ENCRYPTION) == {*vpn.ENCRYPTION_ALGORITHMS, *vpn.WEAK_ENCRYPTION_ALGORITHMS}
    assert set(INTEGRITY) == {*vpn.AUTH_ALGORITHMS, *vpn.WEAK_AUTH_ALGORITHMS}
    assert set(DH) == set(vpn.PFS_GROUPS)
    assert set(translate.DPD_ACTIONS) == set(vpn.DPD_ACTIONS)
    assert set(translate.START_ACTIONS) == set(vpn.INITIATORS)
    assert set(translate.TRANSFORM_KEYS) == set(vpn.TRANSFORM_PROTOCOLS)


@pytest.mark.parametrize(
    ("api", "token"), [pytest.param(k, v, id=k) for k, v in ENCRYPTION.items()]
)
def test_encryption_algorithm_becomes_its_cipher_token(api: str, token: str) -> None:
    aead = "gcm" in api or "ccm" in api
    ike = translate.ike_proposal(_policy(encryption_algorithm=api))
    esp = translate.esp_proposal(_policy(encryption_algorithm=api))
    if aead:  # a PRF on IKE, no integrity at all on ESP
        assert ike == f"{token}-prfsha256-modp2048"
        assert esp == f"{token}-modp2048"
    else:
        assert ike == f"{token}-sha256-modp2048"
        assert esp == f"{token}-sha256-modp2048"


@pytest.mark.parametrize(("api", "token"), [pytest.param(k, v, id=k) for k, v in INTEGRITY.items()])
def test_auth_algorithm_becomes_integrity_or_prf_token(api: str, token: str) -> None:
    assert translate.ike_proposal(_policy(auth_algorithm=api)) == f"aes128-{token}-modp2048"
    assert translate.esp_proposal(_policy(auth_algorithm=api)) == f"aes128-{token}-modp2048"
    gcm = _policy(auth_algorithm=api, encryption_algorithm="aes-256-gcm-16")
    assert translate.ike_proposal(gcm) == f"aes256gcm16-prf{token}-modp2048"
    assert translate.esp_proposal(gcm) == "aes256gcm16-modp2048"
    assert translate.ah_proposal(_policy(auth_algorithm=api)) == f"{token}-modp2048"


@pytest.mark.parametrize(("pfs", "token"), [pytest.param(k, v, id=k) for k, v in DH.items()])
def test_pfs_group_becomes_dh_token_on_ike_and_esp(pfs: str, token: str) -> None:
    assert translate.ike_proposal(_policy(pfs=pfs)) == f"aes128-sha256-{token}"
    assert translate.esp_proposal(_policy(pfs=pfs)) == f"aes128-sha256-{token}"


@pytest.mark.parametrize(
    ("version", "mode", "expected"),
    [
        pytest.param("v1", "main", ("1", "no"), id="ikev1-main"),
        pytest.param("v1", "aggressive", ("1", "yes"), id="ikev1-aggressive"),
        pytest.param("v2", "main", ("2", "no"), id="ikev2"),
    ],
)
def test_ike_version_and_phase1_mode(version: str, mode: str, expected: tuple[str, str]) -> None:
    conn = _conn(ikepolicy={"ike_version": version, "phase1_negotiation_mode": mode})
    (cfg,) = translate.ike_config(parse_group(conn)).values()
    assert (cfg["version"], cfg["aggressive"]) == expected


def parse_group(*conns: Connection) -> Group:
    (group,) = group_connections(list(conns))
    return group


@pytest.mark.parametrize(
    ("action", "version", "child_action", "ike_keys"),
    [
        pytest.param("clear", "v2", "clear", {"dpd_delay": "2s", "keyingtries": "1"}, id="clear"),
        pytest.param(
            "hold", "v2", "restart", {"dpd_delay": "2s", "keyingtries": "0"}, id="hold-restarts"
        ),
        pytest.param(
            "restart", "v2", "restart", {"dpd_delay": "2s", "keyingtries": "0"}, id="restart"
        ),
        pytest.param(
            "restart-by-peer", "v2", "clear", {"dpd_delay": "2s", "keyingtries": "1"}, id="by-peer"
        ),
        pytest.param(
            "disabled", "v2", "clear", {"dpd_delay": "0s", "keyingtries": "1"}, id="disabled"
        ),
        pytest.param(
            "clear", "v1", "clear", {"dpd_delay": "2s", "dpd_timeout": "6s"}, id="ikev1-timeout"
        ),
    ],
)
def test_dpd_action(action: str, version: str, child_action: str, ike_keys: dict[str, str]) -> None:
    conn = _conn(
        dpd={"action": action, "interval": 2, "timeout": 6}, ikepolicy={"ike_version": version}
    )
    (cfg,) = translate.ike_config(parse_group(conn)).values()
    assert {k: cfg[k] for k in ike_keys} == ike_keys
    assert ("dpd_timeout" in cfg) == (version == "v1")  # IKEv2 ignores it
    assert cfg["children"]["c1"]["dpd_action"] == child_action


@pytest.mark.parametrize(
    ("initiator", "local", "peer", "start"),
    [
        pytest.param("bi-directional", A, B, "start", id="bi-directional-first"),
        pytest.param("bi-directional", B, A, "none", id="bi-directional-second"),
        pytest.param("response-only", A, B, "none", id="response-only"),
        pytest.param("response-only", B, A, "none", id="response-only-second"),
    ],
)
def test_initiator_becomes_start_action(initiator: str, local: str, peer: str, start: str) -> None:
    conn = replace(_conn(initiator=initiator), local_address=local, peer_address=peer)
    assert translate.children(conn)["c1"]["start_action"] == start


@pytest.mark.parametrize(
    ("protocol", "keys"),
    [
        pytest.param("esp", {"esp_proposals"}, id="esp"),
        pytest.param("ah", {"ah_proposals"}, id="ah"),
        pytest.param("ah-esp", {"esp_proposals", "ah_proposals"}, id="ah-esp"),
    ],
)
def test_transform_protocol_fills_its_proposals(protocol: str, keys: set[str]) -> None:
    child = translate.children(_conn(ipsecpolicy={"transform_protocol": protocol}))["c1"]
    assert {k for k in child if k.endswith("_proposals")} == keys


@pytest.mark.parametrize("mode", vpn.ENCAPSULATION_MODES)
def test_encapsulation_mode_is_the_child_mode(mode: str) -> None:
    assert translate.children(_conn(ipsecpolicy={"encapsulation_mode": mode}))["c1"]["mode"] == mode


def test_lifetimes_become_rekey_and_life_times() -> None:
    conn = _conn(
        ikepolicy={"lifetime": {"units": "seconds", "value": 7200}},
        ipsecpolicy={"lifetime": {"units": "seconds", "value": 1000}},
    )
    (cfg,) = translate.ike_config(parse_group(conn)).values()
    assert (cfg["rekey_time"], cfg["over_time"], cfg["reauth_time"]) == ("7200s", "720s", "0s")
    child = cfg["children"]["c1"]
    assert (child["life_time"], child["rekey_time"]) == ("1000s", "900s")


@pytest.mark.parametrize(
    ("given", "identity"),
    [
        pytest.param("192.0.2.9", "192.0.2.9", id="ipv4"),
        pytest.param("2001:db8::1", "2001:db8::1", id="ipv6"),
        pytest.param("gw.example.org", "@gw.example.org", id="fqdn"),
        pytest.param("@gw.example.org", "@gw.example.org", id="forced-fqdn"),
        pytest.param("vpn@example.org", "vpn@example.org", id="email"),
        pytest.param("CN=gw, O=Example", "CN=gw, O=Example", id="dn"),
    ],
)
def test_ids_keep_their_identity_type(given: str, identity: str) -> None:
    conn = _conn(local_id=given, peer_id=given)
    group = parse_group(conn)
    (cfg,) = translate.ike_config(group).values()
    assert cfg["local-psk"] == {"auth": "psk", "id": identity}
    assert cfg["remote-psk"] == {"auth": "psk", "id": identity}
    assert translate.shared_secret(group)["owners"] == [identity, identity]


def test_shared_secret_is_named_after_the_group_and_carries_the_psk() -> None:
    group = parse_group(_conn(psk="s3cret-value"))
    secret = translate.shared_secret(group)
    assert (secret["id"], secret["type"], secret["data"]) == (
        f"psk-{group.name}",
        "IKE",
        "s3cret-value",
    )
    assert "s3cret-value" not in repr(group)


ONE = (["10.1.0.0/24", "10.1.1.0/24"], ["10.2.0.0/24"])
PAIRS = [(["10.1.0.0/24"], ["10.2.0.0/24"]), (["10.1.1.0/24"], ["10.2.0.0/24"])]


@pytest.mark.parametrize(
    ("version", "split", "names", "pairs"),
    [
        pytest.param("v2", False, ["c1"], [ONE], id="v2-one-child"),
        pytest.param("v2", True, ["c1-0", "c1-1"], PAIRS, id="v2-split"),
        pytest.param("v1", False, ["c1-0", "c1-1"], PAIRS, id="v1-pair-each"),
    ],
)
def test_children_per_selector(
    version: str, split: bool, names: list[str], pairs: list[tuple[list[str], list[str]]]
) -> None:
    conn = replace(
        _conn(ikepolicy={"ike_version": version}, split_selector=split),
        local_cidrs=("10.1.0.0/24", "10.1.1.0/24"),
    )
    kids = translate.children(conn)
    assert list(kids) == names
    assert [(k["local_ts"], k["remote_ts"]) for k in kids.values()] == pairs


def test_connections_with_the_same_endpoints_and_ids_share_one_ike_connection() -> None:
    docs = [
        ds.connection(
            cid, local=A, peer=B, local_cidrs=[f"10.1.{n}.0/24"], peer_cidrs=[f"10.2.{n}.0/24"]
        )
        for n, cid in enumerate(["c2", "c1", "c3"])
    ]
    docs.append(
        ds.connection(
            "c0", local=A, peer="192.0.2.3", local_cidrs=["10.1.9.0/24"], peer_cidrs=["10.3.0.0/24"]
        )
    )
    groups = parse_state(ds.state("r1", *docs)).groups()
    shared = group_name(("r1", A, B, A, B))
    assert [(g.name, [c.id for c in g.connections]) for g in groups] == [
        (group_name(("r1", A, "192.0.2.3", A, "192.0.2.3")), ["c0"]),
        (shared, ["c1", "c2", "c3"]),
    ]
    cfg = translate.ike_config(groups[1])[shared]
    assert list(cfg["children"]) == ["c1", "c2", "c3"]


def test_a_group_keeps_its_name_when_a_connection_joins_or_leaves() -> None:
    """Renaming the IKE connection would end its SA and every tunnel in it."""

    def name_of(*ids: str) -> str:
        docs = [
            ds.connection(
                cid, local=A, peer=B, local_cidrs=[f"10.1.{n}.0/24"], peer_cidrs=[f"10.2.{n}.0/24"]
            )
            for n, cid in enumerate(ids)
        ]
        (group,) = parse_state(ds.state("r1", *docs)).groups()
        return group.name

    assert name_of("c5") == name_of("c1", "c5") == name_of("c1") == name_of("c9", "c1", "c5")


def test_admin_down_connections_are_left_out_of_their_group() -> None:
    up = ds.connection(
        "c1", local=A, peer=B, local_cidrs=["10.1.0.0/24"], peer_cidrs=["10.2.0.0/24"]
    )
    down = ds.connection(
        "c2",
        local=A,
        peer=B,
        local_cidrs=["10.1.1.0/24"],
        peer_cidrs=["10.2.1.0/24"],
        admin_state_up=False,
    )
    (group,) = parse_state(ds.state("r1", up, down)).groups()
    assert list(translate.ike_config(group)[group.name]["children"]) == ["c1"]
    (off,) = parse_state(ds.state("r1", up, service_up=False)).groups()
    assert off.enabled == ()
