"""API values → VICI dictionaries (``load-conn``, ``load-shared``). Pure.

One :class:`~vpnaas.ipsec.desired.Group` becomes one IKE connection with one
child per enabled VPNaaS connection (or one child per local-by-peer CIDR pair
with ``split_selector``, and under IKEv1, which narrows a child to its first
pair). docs/agent.md records the mapping and why each choice was made.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from typing import Any

import orjson

from vpnaas.ipsec.desired import Connection, Group, Policy

__all__ = [
    "child_names",
    "children",
    "dh_token",
    "digest",
    "esp_proposal",
    "ike_config",
    "ike_identity",
    "ike_proposal",
    "shared_secret",
]

#: strongSwan's DH group names by IANA transform number (the ``groupN`` of the API)
DH_GROUPS = {
    2: "modp1024",
    5: "modp1536",
    14: "modp2048",
    15: "modp3072",
    16: "modp4096",
    17: "modp6144",
    18: "modp8192",
    19: "ecp256",
    20: "ecp384",
    21: "ecp521",
    22: "modp1024s160",
    23: "modp2048s224",
    24: "modp2048s256",
    25: "ecp192",
    26: "ecp224",
    27: "ecp224bp",
    28: "ecp256bp",
    29: "ecp384bp",
    30: "ecp512bp",
    31: "curve25519",
    32: "curve448",
}

#: dpd.action → (child dpd_action, dpd enabled, retry forever). ``hold`` keeps
#: the tunnel wanted (restart) and relies on the fail-closed routes: a trap
#: policy never re-initiates with kernel-libipsec. ``restart-by-peer`` leaves
#: the restart to the peer.
DPD_ACTIONS: dict[str, tuple[str, bool, bool]] = {
    "clear": ("clear", True, False),
    "disabled": ("clear", False, False),
    "hold": ("restart", True, True),
    "restart": ("restart", True, True),
    "restart-by-peer": ("clear", True, False),
}

#: connection.initiator → child start_action of the gateway that starts first
#: (see :func:`start_action`); the agent re-initiates bi-directional
#: connections that have no SA, response-only ones never
START_ACTIONS = {"bi-directional": "start", "response-only": "none"}

#: ipsecpolicy.transform_protocol → the child proposal keys it fills
TRANSFORM_KEYS = {
    "esp": ("esp_proposals",),
    "ah": ("ah_proposals",),
    "ah-esp": ("esp_proposals", "ah_proposals"),
}


def _token(value: str) -> str:
    """An API algorithm name as strongSwan spells it: ``aes-128-gcm-16`` →
    ``aes128gcm16``, ``aes-xcbc`` → ``aesxcbc``, ``sha256`` → ``sha256``."""
    return value.replace("-", "")


def is_aead(encryption_algorithm: str) -> bool:
    """True for the combined-mode ciphers (GCM, CCM): they carry no integrity
    algorithm of their own."""
    parts = encryption_algorithm.split("-")
    return len(parts) == 4 and parts[2] in ("gcm", "ccm")


def dh_token(pfs: str) -> str:
    """``group14`` → ``modp2048``."""
    return DH_GROUPS[int(pfs.removeprefix("group"))]


def ike_proposal(policy: Policy) -> str:
    """The IKE proposal: cipher, integrity (a PRF instead with an AEAD
    cipher) and DH group."""
    middle = _token(policy.auth_algorithm)
    if is_aead(policy.encryption_algorithm):
        middle = "prf" + middle
    return "-".join((_token(policy.encryption_algorithm), middle, dh_token(policy.pfs)))


def esp_proposal(policy: Policy) -> str:
    """The ESP proposal: cipher, integrity (none with an AEAD cipher), and
    the PFS group."""
    parts = [_token(policy.encryption_algorithm)]
    if not is_aead(policy.encryption_algorithm):
        parts.append(_token(policy.auth_algorithm))
    parts.append(dh_token(policy.pfs))
    return "-".join(parts)


def ah_proposal(policy: Policy) -> str:
    """The AH proposal: integrity and the PFS group."""
    return f"{_token(policy.auth_algorithm)}-{dh_token(policy.pfs)}"


def ike_identity(value: str) -> str:
    """An IKE identity as strongSwan should read it: an IP address stays an
    IP identity, ``user@domain`` an email identity, a distinguished name a DN;
    any other name is forced to an FQDN identity with a leading ``@``."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if "@" in value or "=" in value:
        return value
    return "@" + value


def _seconds(value: int) -> str:
    return f"{value}s"


def _lifetimes_ike(policy: Policy) -> dict[str, str]:
    life = policy.lifetime_value
    return {
        "rekey_time": _seconds(life),
        "over_time": _seconds(max(1, life // 10)),
        "reauth_time": "0s",
    }


def _lifetimes_child(policy: Policy) -> dict[str, str]:
    life = policy.lifetime_value
    return {"life_time": _seconds(life), "rekey_time": _seconds(max(1, life * 9 // 10))}


def child_pairs(conn: Connection) -> list[tuple[list[str], list[str]]]:
    """The traffic selectors of a connection's children: one child with all
    CIDRs, or one per local-by-peer pair (``split_selector``, or IKEv1 with
    more than one pair)."""
    pairs = [([lo], [pe]) for lo in conn.local_cidrs for pe in conn.peer_cidrs]
    split = conn.split_selector or conn.ikepolicy.ike_version == "v1"
    if split and len(pairs) > 1:
        return pairs
    return [(list(conn.local_cidrs), list(conn.peer_cidrs))]


def child_names(conn: Connection) -> list[str]:
    """Child names: the connection id, or ``<id>-<n>`` per pair."""
    pairs = child_pairs(conn)
    if len(pairs) == 1:
        return [conn.id]
    return [f"{conn.id}-{n}" for n in range(len(pairs))]


@functools.lru_cache(maxsize=4096)
def _address_key(address: str) -> tuple[int, int, str]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (2, 0, address)
    return (ip.version, int(ip), "")


def start_action(conn: Connection) -> str:
    """When both gateways start a bi-directional connection as they load
    it, two IKE SAs come up, and ending the extra one makes kernel-libipsec
    drop the route of the one kept. So only the gateway whose address sorts
    first starts at load; the other initiates when no SA came within a grace
    time (as it does whenever an SA is missing)."""
    if START_ACTIONS[conn.initiator] == "none":
        return "none"
    first = _address_key(conn.local_address) < _address_key(conn.peer_address)
    return START_ACTIONS[conn.initiator] if first else "none"


def children(conn: Connection) -> dict[str, dict[str, Any]]:
    """The ``children`` section entries of one VPNaaS connection."""
    policy = conn.ipsecpolicy
    dpd_action, _, _ = DPD_ACTIONS[conn.dpd_action]
    common: dict[str, Any] = {
        "mode": policy.encapsulation_mode,
        **_lifetimes_child(policy),
        "dpd_action": dpd_action,
        "close_action": "none",
        "start_action": start_action(conn),
    }
    for key in TRANSFORM_KEYS[policy.transform_protocol]:
        common[key] = [esp_proposal(policy) if key == "esp_proposals" else ah_proposal(policy)]
    return {
        name: {**common, "local_ts": local, "remote_ts": remote}
        for name, (local, remote) in zip(child_names(conn), child_pairs(conn), strict=True)
    }


def _dpd(conn: Connection) -> dict[str, str]:
    _, enabled, forever = DPD_ACTIONS[conn.dpd_action]
    out = {
        "dpd_delay": _seconds(conn.dpd_interval if enabled else 0),
        "keyingtries": "0" if forever else "1",
    }
    if conn.ikepolicy.ike_version == "v1" and enabled:
        out["dpd_timeout"] = _seconds(conn.dpd_timeout)
    return out


def ike_settings(group: Group) -> dict[str, Any]:
    """The IKE connection of a group without its children."""
    conn = group.first
    policy = conn.ikepolicy
    return {
        "version": policy.ike_version.removeprefix("v"),
        "local_addrs": [conn.local_address],
        "remote_addrs": [conn.peer_address],
        "proposals": [ike_proposal(policy)],
        "aggressive": "yes" if policy.phase1_negotiation_mode == "aggressive" else "no",
        **_lifetimes_ike(policy),
        **_dpd(conn),
        "mobike": "no",
        "unique": "no",
        "local-psk": {"auth": "psk", "id": ike_identity(conn.local_id)},
        "remote-psk": {"auth": "psk", "id": ike_identity(conn.peer_id)},
    }


def ike_config(group: Group) -> dict[str, Any]:
    """The ``load-conn`` argument for a group: its enabled connections as
    children."""
    kids: dict[str, Any] = {}
    for conn in group.enabled:
        kids.update(children(conn))
    return {group.name: {**ike_settings(group), "children": kids}}


def shared_secret(group: Group) -> dict[str, Any]:
    """The ``load-shared`` argument: the group's psk, owned by both ids."""
    conn = group.first
    return {
        "id": group.secret_id,
        "type": "IKE",
        "data": conn.psk,
        "owners": [ike_identity(conn.local_id), ike_identity(conn.peer_id)],
    }


def digest(value: Any) -> str:
    """A stable digest of a JSON-able value (used to see what changed; the
    psk only ever enters it hashed, never stored)."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()
