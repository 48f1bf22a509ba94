"""The desired state of a gateway's routers, as ``GET /agent/v1/state``
returns it (docs/agent-protocol.md), with its revision digests.

Everything is read through the repository inside one transaction, so the
psk comes out as clients wrote it whatever the storage does with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from vpnaas.rules import RuleEnv
from vpnaas.topology.queries import gateway_ips, ip_version

__all__ = ["WATCHED", "connection_doc", "desired_state", "digest", "router_state"]

#: the resources whose rows the desired state is built from
WATCHED = (
    "ikepolicy",
    "ipsecpolicy",
    "vpnservice",
    "endpoint_group",
    "ipsec_site_connection",
    "router",
    "port",
    "subnet",
)
_POLICY_KEYS = ("auth_algorithm", "encryption_algorithm", "pfs", "lifetime")
_IKE_KEYS = ("id", "ike_version", "phase1_negotiation_mode", *_POLICY_KEYS)
_IPSEC_KEYS = ("id", "transform_protocol", "encapsulation_mode", *_POLICY_KEYS)


def digest(doc: Any) -> str:
    """An opaque revision: the SHA-256 of ``doc``'s canonical JSON."""
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def desired_state(env: RuleEnv, routers: Iterable[str]) -> dict[str, Any]:
    """The whole document for ``routers`` (each once, in the order given)."""
    docs = [router_state(env, router_id) for router_id in dict.fromkeys(routers)]
    return {"revision": digest(docs), "routers": docs}


def local_address(env: RuleEnv, router_id: str) -> str | None:
    """The router's outside address: its gateway port's first IPv4 address."""
    return next((ip for ip in gateway_ips(env, router_id) if ip_version(ip) == 4), None)


def router_state(env: RuleEnv, router_id: str) -> dict[str, Any]:
    address = local_address(env, router_id)
    services_res = env.res("vpnservice")
    services = env.repo.find(services_res, env.table("vpnservice").c.router_id == router_id)
    return {
        "id": router_id,
        "local_address": address,
        "services": [_service_doc(env, service, address) for service in services],
    }


def _service_doc(env: RuleEnv, service: dict[str, Any], address: str | None) -> dict[str, Any]:
    table = env.table("ipsec_site_connection")
    connections = env.repo.find(
        env.res("ipsec_site_connection"), table.c.vpnservice_id == service["id"]
    )
    return {
        "id": service["id"],
        "admin_state_up": service["admin_state_up"],
        "connections": [connection_doc(env, service, conn, address) for conn in connections],
    }


def connection_doc(
    env: RuleEnv, service: dict[str, Any], conn: dict[str, Any], address: str | None
) -> dict[str, Any]:
    """One connection's desired config and its revision (a digest of the
    config, its service's admin state and the local address)."""
    doc = {
        "id": conn["id"],
        "name": conn["name"],
        "admin_state_up": conn["admin_state_up"],
        "local_address": address,
        "peer_address": conn["peer_address"],
        "local_id": conn["local_id"] or address,
        "peer_id": conn["peer_id"],
        "local_cidrs": local_cidrs(env, service, conn),
        "peer_cidrs": peer_cidrs(env, conn),
        "psk": conn["psk"],
        "mtu": conn["mtu"],
        "initiator": conn["initiator"],
        "dpd": conn["dpd"],
        "split_selector": conn["split_selector"],
        "ikepolicy": _policy(env, "ikepolicy", conn["ikepolicy_id"], _IKE_KEYS),
        "ipsecpolicy": _policy(env, "ipsecpolicy", conn["ipsecpolicy_id"], _IPSEC_KEYS),
    }
    revision = digest([doc, service["admin_state_up"]])
    return {"id": doc["id"], "revision": revision, **doc}


def local_cidrs(env: RuleEnv, service: dict[str, Any], conn: dict[str, Any]) -> list[str]:
    """The service's subnet, or the subnets of the local endpoint group."""
    if service["subnet_id"] is not None:
        subnet_ids = [service["subnet_id"]]
    elif conn["local_ep_group_id"] is not None:
        subnet_ids = _group(env, conn["local_ep_group_id"])
    else:
        subnet_ids = []
    subnet_res = env.res("subnet")
    cidrs = (env.repo.value(subnet_res, subnet_id, "cidr") for subnet_id in subnet_ids)
    return [cidr for cidr in cidrs if cidr is not None]


def peer_cidrs(env: RuleEnv, conn: dict[str, Any]) -> list[str]:
    """``peer_cidrs``, or the CIDRs of the peer endpoint group."""
    if conn["peer_cidrs"]:
        return list(conn["peer_cidrs"])
    if conn["peer_ep_group_id"] is not None:
        return _group(env, conn["peer_ep_group_id"])
    return []


def _group(env: RuleEnv, group_id: str) -> list[str]:
    key = f"endpoint_group:{group_id}"
    if key not in env.cache:
        group = env.repo.get(env.res("endpoint_group"), group_id)
        env.cache[key] = list(group["endpoints"]) if group else []
    return list(env.cache[key])


def _policy(env: RuleEnv, member: str, obj_id: str, keys: tuple[str, ...]) -> dict[str, Any]:
    key = f"{member}:{obj_id}"
    if key not in env.cache:
        policy = env.repo.get(env.res(member), obj_id) or {"id": obj_id}
        env.cache[key] = {name: policy.get(name) for name in keys}
    return dict(env.cache[key])
