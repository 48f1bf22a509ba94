"""What the strongswan driver cannot build is refused at the API (400), and
connections that share an IKE SA must agree on its settings (409).

These rules wrap the VPN rules only while ``[vpnaas] driver = strongswan``;
with the null driver the API keeps the reference's behaviour. The reasons
are in docs/decisions.md ("What the strongswan driver refuses"). Updates
mark the object ``PENDING_UPDATE`` inside their transaction, and a policy
in use may change (its connections then go ``PENDING_UPDATE`` too) as long
as the result is still something the driver can build.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from vpnaas import errors
from vpnaas.drivers.strongswan.siblings import (
    group_candidates,
    peer_cidr_rows,
    peer_cidrs_near,
)
from vpnaas.drivers.strongswan.state import connection_rows, local_cidrs, peer_cidrs
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.hooks.queries import ip_version
from vpnaas.rules.ipsec_site_connection import ConnectionRules
from vpnaas.rules.policies import PolicyRules
from vpnaas.rules.vpnservice import VPNServiceRules
from vpnaas.spec.vpn import (
    AGGRESSIVE_MODE,
    ESP,
    IKE_V1,
    PENDING_STATUSES,
    PENDING_UPDATE,
    TUNNEL_MODE,
)

__all__ = ["strongswan_rules"]

IKEV1_CIPHER_MODES = ("-ctr", "-ccm-", "-gcm-")
IKEV1_NO_INTEGRITY = ("aes-xcbc", "aes-cmac")
NO_IPV6 = "IPv6 is not supported yet"
#: what connections sharing one IKE SA must agree on
GROUP_SETTINGS = ("ikepolicy_id", "psk", "dpd", "initiator", "admin_state_up")


def _unsupported(attribute: str, value: Any, why: str) -> errors.UnsupportedByDriver:
    return errors.UnsupportedByDriver(attribute=attribute, value=value, why=why)


def check_ikepolicy(policy: dict[str, Any], allow_aggressive: bool) -> None:
    if policy["phase1_negotiation_mode"] == AGGRESSIVE_MODE and not allow_aggressive:
        raise _unsupported(
            "phase1_negotiation_mode",
            AGGRESSIVE_MODE,
            "it sends the identity unprotected and exposes the psk to offline guessing; "
            "an operator may allow it with [vpnaas] allow_aggressive_mode",
        )
    if policy["ike_version"] != IKE_V1:
        return
    cipher = policy["encryption_algorithm"]
    if any(mode in cipher for mode in IKEV1_CIPHER_MODES):
        raise _unsupported(
            "encryption_algorithm", cipher, "IKEv1 has no counter or AEAD ciphers; use IKEv2"
        )
    if policy["auth_algorithm"] in IKEV1_NO_INTEGRITY:
        raise _unsupported(
            "auth_algorithm",
            policy["auth_algorithm"],
            "IKEv1 has no XCBC or CMAC integrity; use IKEv2",
        )


def check_ipsecpolicy(policy: dict[str, Any]) -> None:
    if policy["transform_protocol"] != ESP:
        raise _unsupported(
            "transform_protocol", policy["transform_protocol"], "the data plane carries ESP only"
        )
    if policy["encapsulation_mode"] != TUNNEL_MODE:
        raise _unsupported(
            "encapsulation_mode",
            policy["encapsulation_mode"],
            "site-to-site connections need tunnel mode",
        )


def _mark_connections_pending(env: RuleEnv, member: str, policy_id: str) -> None:
    """Every connection of the policy waits for a report of its new config.
    Each row is written (a pending one with its own status), which locks it
    against a report for the old config that is being applied meanwhile."""
    res = env.res("ipsec_site_connection")
    for conn_id in env.repo.ids_by(res, f"{member}_id", policy_id):
        status = env.repo.value(res, conn_id, "status")
        pending = status if status in PENDING_STATUSES else PENDING_UPDATE
        env.repo.update(res, conn_id, {"status": pending})


class DriverPolicyRules(PolicyRules):
    """A policy must be buildable; one in use may still change."""

    def __init__(self, member: str, in_use: type[errors.ApiError], allow_aggressive: bool) -> None:
        super().__init__(member, in_use)
        self.allow_aggressive = allow_aggressive

    def check(self, policy: dict[str, Any]) -> None:
        if self.member == "ikepolicy":
            check_ikepolicy(policy, self.allow_aggressive)
        else:
            check_ipsecpolicy(policy)

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        self.check(obj)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        self.check({**current, **changes})
        _mark_connections_pending(env, self.member, current["id"])


class DriverServiceRules(VPNServiceRules):
    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        super().on_create(env, obj)
        subnet_id = obj["subnet_id"]
        if subnet_id and env.repo.value(env.res("subnet"), subnet_id, "ip_version") == 6:
            raise _unsupported("subnet_id", subnet_id, NO_IPV6)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        super().on_update(env, current, changes)
        changes["status"] = PENDING_UPDATE


class DriverConnectionRules(ConnectionRules):
    def __init__(self, allow_aggressive: bool) -> None:
        self.allow_aggressive = allow_aggressive

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        super().on_create(env, obj)
        self.check(env, obj)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        super().on_update(env, current, changes)
        self.check(env, {**current, **changes})
        changes["status"] = PENDING_UPDATE

    def check(self, env: RuleEnv, conn: dict[str, Any]) -> None:
        service = env.repo.get(env.res("vpnservice"), conn["vpnservice_id"])
        assert service is not None  # the VPN rules found it
        for member, check in (
            ("ikepolicy", lambda p: check_ikepolicy(p, self.allow_aggressive)),
            ("ipsecpolicy", check_ipsecpolicy),
        ):
            policy = env.repo.get(env.res(member), conn[f"{member}_id"])
            assert policy is not None
            check(policy)
        router_id = service["router_id"]
        rows = connection_rows(env, service, conn)
        address = rows.addresses[router_id]
        peers = peer_cidrs(rows, conn)
        _refuse_ipv6(conn["peer_address"], peers, local_cidrs(rows, service, conn))
        _refuse_overlaps(env, router_id, conn["id"], peers)
        _refuse_group_conflicts(env, router_id, conn, address)


def _refuse_ipv6(peer_address: str, peers: list[str], locals_: list[str]) -> None:
    if ip_version(peer_address) == 6:
        raise _unsupported("peer_address", peer_address, NO_IPV6)
    for attribute, cidrs in (("peer CIDRs", peers), ("local subnets", locals_)):
        for cidr in cidrs:
            if ip_version(cidr) == 6:
                raise _unsupported(attribute, cidr, NO_IPV6)


@functools.lru_cache(maxsize=65536)
def _span(cidr: str) -> tuple[int, int, int]:
    """``(version, first, last)`` address of ``cidr`` as integers: creates
    compare their peer CIDRs with those of the router's other connections,
    the same strings again and again."""
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


def _overlap(mine: list[tuple[str, tuple[int, int, int]]], cidr: str) -> str | None:
    """The first of ``mine`` that ``cidr`` overlaps."""
    version, first, last = _span(cidr)
    for net, (v, lo, hi) in mine:
        if v == version and lo <= last and first <= hi:
            return net
    return None


def _refuse_overlaps(env: RuleEnv, router_id: str, conn_id: str, peers: list[str]) -> None:
    """No peer CIDR of the router's other connections overlaps ``peers``;
    the error names the first connection (by service and id) that does."""
    mine = [(cidr, _span(cidr)) for cidr in peers]
    near = (c for cidr in peers for c in peer_cidrs_near(env, router_id, conn_id, cidr))
    if not any(_overlap(mine, c) for c in near):
        return
    for other, cidr in peer_cidr_rows(env, router_id, conn_id):
        net = _overlap(mine, cidr)
        if net is not None:
            raise errors.OverlappingPeerCidrs(
                cidr=str(ipaddress.ip_network(net, strict=False)),
                other=cidr,
                connection=other,
                router_id=router_id,
            )


def _group_key(conn: dict[str, Any], address: str | None) -> tuple[str, str | None, str]:
    return (conn["peer_address"], conn["local_id"] or address, conn["peer_id"])


def _refuse_group_conflicts(
    env: RuleEnv, router_id: str, conn: dict[str, Any], address: str | None
) -> None:
    """The router's other connections of ``conn``'s IKE group agree with it;
    the error names the first (by service and id) that does not, and the
    first setting it differs in."""
    key = _group_key(conn, address)
    res = env.res("ipsec_site_connection")
    for other_id in group_candidates(env, router_id, conn, address, GROUP_SETTINGS):
        other = env.repo.get(res, other_id)
        if other is None or _group_key(other, address) != key:
            continue
        for setting in GROUP_SETTINGS:
            if other[setting] != conn[setting]:
                raise errors.IKEGroupConflict(
                    connection=other["id"], router_id=router_id, attribute=setting
                )


def strongswan_rules(*, allow_aggressive: bool) -> dict[str, ResourceRules]:
    """The VPN rules with the strongswan driver's checks added."""
    return {
        "ikepolicy": DriverPolicyRules("ikepolicy", errors.IKEPolicyInUse, allow_aggressive),
        "ipsecpolicy": DriverPolicyRules("ipsecpolicy", errors.IPsecPolicyInUse, allow_aggressive),
        "vpnservice": DriverServiceRules(),
        "ipsec_site_connection": DriverConnectionRules(allow_aggressive),
    }
