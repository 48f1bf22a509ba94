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

import ipaddress
from typing import Any

from vpnaas import errors
from vpnaas.drivers.strongswan.siblings import Router, Siblings, Span, combo, differs, span
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
        self.siblings = Siblings(GROUP_SETTINGS)

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
        others = self.siblings.of(env, router_id).without(conn["id"])
        _refuse_overlaps(others, router_id, peers)
        _refuse_group_conflicts(others, router_id, conn, address, self.siblings.wanted(env, conn))


def _refuse_ipv6(peer_address: str, peers: list[str], locals_: list[str]) -> None:
    if ip_version(peer_address) == 6:
        raise _unsupported("peer_address", peer_address, NO_IPV6)
    for attribute, cidrs in (("peer CIDRs", peers), ("local subnets", locals_)):
        for cidr in cidrs:
            if ip_version(cidr) == 6:
                raise _unsupported(attribute, cidr, NO_IPV6)


def _overlap(mine: list[tuple[str, Span]], other: Span) -> str | None:
    """The first of ``mine`` that ``other`` overlaps."""
    version, first, last = other
    for net, (v, lo, hi) in mine:
        if v == version and lo <= last and first <= hi:
            return net
    return None


def _refuse_overlaps(others: Router, router_id: str, peers: list[str]) -> None:
    """No peer CIDR of the router's other connections overlaps ``peers``;
    the error names the first connection (by service and id) that does,
    and its first CIDR that does."""
    mine = [(cidr, span(cidr)) for cidr in peers]
    if not any(others.overlaps(one) for _, one in mine):
        return
    hits = [s for s in others.members.values() if any(_overlap(mine, o) for o in s.spans)]
    if not hits:
        return
    first = min(hits, key=lambda s: s.order)
    for cidr, other in zip(first.cidrs, first.spans, strict=True):
        net = _overlap(mine, other)
        if net is not None:
            raise errors.OverlappingPeerCidrs(
                cidr=str(ipaddress.ip_network(net, strict=False)),
                other=cidr,
                connection=first.id,
                router_id=router_id,
            )


def _refuse_group_conflicts(
    others: Router,
    router_id: str,
    conn: dict[str, Any],
    address: str | None,
    wanted: tuple[Any, ...],
) -> None:
    """The router's other connections of ``conn``'s IKE group (same peer
    address, peer id and local id, an empty local id meaning the router's
    ``address``) agree with it; the error names the first (by service and
    id) that does not, and the first setting it differs in. Only the
    distinct combinations are compared (one, in a group that agrees)."""
    key = (conn["peer_address"], conn["peer_id"], conn["local_id"] or address)
    apart = {
        c
        for c in others.combos
        if (c[0], c[1], c[2] or address) == key and any(map(differs, c[3], wanted))
    }
    if not apart:
        return
    first = min((s for s in others.members.values() if combo(s) in apart), key=lambda s: s.order)
    pairs = zip(GROUP_SETTINGS, first.settings, wanted, strict=True)
    setting = next(name for name, stored, mine in pairs if differs(stored, mine))
    raise errors.IKEGroupConflict(connection=first.id, router_id=router_id, attribute=setting)


def strongswan_rules(*, allow_aggressive: bool) -> dict[str, ResourceRules]:
    """The VPN rules with the strongswan driver's checks added."""
    return {
        "ikepolicy": DriverPolicyRules("ikepolicy", errors.IKEPolicyInUse, allow_aggressive),
        "ipsecpolicy": DriverPolicyRules("ipsecpolicy", errors.IPsecPolicyInUse, allow_aggressive),
        "vpnservice": DriverServiceRules(),
        "ipsec_site_connection": DriverConnectionRules(allow_aggressive),
    }
