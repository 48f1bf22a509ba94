"""The desired state of a gateway's routers, as ``GET /agent/v1/state``
returns it (docs/agent-protocol.md), with its revision digests.

Everything is read through the repository inside one transaction, so the
psk comes out as clients wrote it whatever the storage does with it; the
rows of any number of routers are loaded in a fixed number of queries. With
what earlier builds kept (:mod:`vpnaas.drivers.strongswan.kept`), only the
connections whose stamp moved since are read in full and encoded again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
import sqlalchemy as sa

from vpnaas.drivers.strongswan.kept import MEMBERS, KeptRows
from vpnaas.hooks import RuleEnv
from vpnaas.hooks.queries import gateway_ips, ip_version
from vpnaas.spec.core import DEVICE_OWNER_GATEWAY
from vpnaas.spec.vpn import ENDPOINT_SUBNET

__all__ = [
    "STATUS_COUNTERS",
    "WATCHED",
    "Rows",
    "connection_rows",
    "current_revisions",
    "desired_state",
    "desired_states",
    "desired_version",
    "digest",
    "load_rows",
    "local_cidrs",
    "peer_cidrs",
]

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
#: a second write counter for each watched resource whose status reports
#: write: a report bumps both, so a watched counter less its status counter
#: moves only on a write the desired state may depend on (a stream of
#: status reports wakes no long poll: docs/agent-protocol.md §state)
STATUS_COUNTERS = {
    "ipsec_site_connection": "ipsec_site_connection:status",
    "vpnservice": "vpnservice:status",
}


def desired_version(counters: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """The version of the desired state from the counters of
    :data:`WATCHED` and :data:`STATUS_COUNTERS`: each watched counter less
    the status writes it counted."""
    found = dict(counters)
    return tuple(
        (member, found.get(member, 0) - found.get(STATUS_COUNTERS.get(member, ""), 0))
        for member in WATCHED
    )


_POLICY_KEYS = ("auth_algorithm", "encryption_algorithm", "pfs", "lifetime")
_IKE_KEYS = ("id", "ike_version", "phase1_negotiation_mode", *_POLICY_KEYS)
_IPSEC_KEYS = ("id", "transform_protocol", "encapsulation_mode", *_POLICY_KEYS)


def digest(doc: Any) -> str:
    """An opaque revision: the SHA-256 of ``doc``'s canonical JSON."""
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def desired_state(env: RuleEnv, routers: Iterable[str]) -> dict[str, Any]:
    """The whole document for ``routers`` (each once, in the order given)."""
    key = tuple(dict.fromkeys(routers))
    return desired_states(env, [key])[key]


def desired_states(
    env: RuleEnv, keys: Iterable[tuple[str, ...]], kept: KeptRows | None = None
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The documents of several router lists, from one load of their rows
    (what waiting agents need after a write: a few queries, not a few per
    router; with ``kept``, only what changed since its builds)."""
    wanted = list(keys)
    rows = load_rows(env, {router for key in wanted for router in key}, kept=kept)
    docs = {router: router_doc(rows, router) for key in wanted for router in key}
    if kept is not None:
        for router, doc in docs.items():
            kept.keep(router, rows.keepable(router, doc), every=True)
    found = {}
    for key in wanted:
        routers = [docs[router] for router in key]
        found[key] = {"revision": digest(routers), "routers": routers}
    return found


def current_revisions(
    env: RuleEnv, routers: Iterable[str], ids: Collection[str], kept: KeptRows | None = None
) -> dict[str, tuple[str, bool]]:
    """The current revision of each of ``ids`` that ``routers`` serve, and
    whether it and its service are admin-up: what a report is checked
    against, from the rows of those connections only (a report names what
    changed, a heartbeat nothing)."""
    routers = list(dict.fromkeys(routers))
    rows = load_rows(env, routers, only=ids, kept=kept)
    found = {}
    for router in routers:
        doc = router_doc(rows, router)
        if kept is not None:
            kept.keep(router, rows.keepable(router, doc), every=False)
        for service in doc["services"]:
            for conn in service["connections"]:
                up = bool(conn["admin_state_up"] and service["admin_state_up"])
                found[conn["id"]] = (conn["revision"], up)
    return found


@dataclass
class Rows:
    """Every row the desired state of some routers is built from."""

    addresses: dict[str, str | None]
    services: dict[str, list[dict[str, Any]]]
    #: per service, in id order: a connection's row, or only its id when its
    #: document is in ``docs``
    connections: dict[str, list[dict[str, Any]]]
    subnet_cidrs: dict[str, str]
    groups: dict[str, list[str]]
    policies: dict[str, dict[str, Any]]
    #: connection documents kept from earlier builds, by id
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: each numbered connection's stamp (:mod:`vpnaas.drivers.strongswan.kept`)
    stamps: dict[str, Hashable] = field(default_factory=dict)

    def keepable(
        self, router: str, doc: dict[str, Any]
    ) -> dict[str, tuple[Hashable, dict[str, Any]]]:
        """The connection documents of ``router``'s ``doc`` with a stamp."""
        return {
            conn["id"]: (self.stamps[conn["id"]], conn)
            for service in doc["services"]
            for conn in service["connections"]
            if conn["id"] in self.stamps
        }


def load_rows(
    env: RuleEnv,
    routers: Iterable[str],
    extra: Iterable[dict[str, Any]] = (),
    only: Collection[str] | None = None,
    kept: KeptRows | None = None,
) -> Rows:
    """The rows of ``routers``' services and connections (plus the groups
    and policies of the ``extra`` connections, not stored yet), by id; of
    the connections ``only`` those, when given; with ``kept``, the
    documents and rows it holds at the current counters instead of theirs."""
    # read before the rows: a write after it moves the counter
    counters = dict(env.repo.revisions(MEMBERS)) if kept is not None else {}

    def by_id(member: str, ids: set[str]) -> dict[str, dict[str, Any]]:
        if kept is None:
            return _by_id(env, member, ids)
        return kept.by_id(member, ids, counters[member], partial(_by_id, env, member))

    routers = sorted(set(routers))
    services = env.repo.find(
        env.res("vpnservice"), env.schema.table("vpnservice").c.router_id.in_(routers)
    )
    addresses = gateway_addresses(env, routers)
    table = env.schema.table("ipsec_site_connection")
    where = [table.c.vpnservice_id.in_([s["id"] for s in services])]
    if only is not None:
        where.append(table.c.id.in_(sorted(only)))
    found = Rows(addresses, _grouped(services, "router_id"), {}, {}, {}, {})
    if only is not None and not only:
        conns: list[dict[str, Any]] = []
    elif kept is None:
        conns = env.repo.find(env.res("ipsec_site_connection"), *where)
        found.connections = _grouped(conns, "vpnservice_id")
    else:
        stamp = tuple(counters[member] for member in MEMBERS)
        conns = _changed_connections(env, kept, found, services, where, stamp)
    every = [*conns, *extra]
    group_ids = {c[k] for c in every for k in ("local_ep_group_id", "peer_ep_group_id") if c[k]}
    groups = by_id("endpoint_group", group_ids)
    subnet_ids = {s["subnet_id"] for s in services if s["subnet_id"]}
    subnet_ids.update(
        e for g in groups.values() if g["type"] == ENDPOINT_SUBNET for e in g["endpoints"]
    )
    subnets = env.schema.table("subnet")
    cidrs = env.repo.conn.execute(
        sa.select(subnets.c.id, subnets.c.cidr).where(subnets.c.id.in_(sorted(subnet_ids)))
    )
    found.subnet_cidrs = {str(row[0]): str(row[1]) for row in cidrs}
    found.groups = {gid: list(g["endpoints"]) for gid, g in groups.items()}
    for member in ("ikepolicy", "ipsecpolicy"):
        found.policies.update(by_id(member, {c[f"{member}_id"] for c in every}))
    return found


def _changed_connections(
    env: RuleEnv,
    kept: KeptRows,
    rows: Rows,
    services: list[dict[str, Any]],
    where: list[Any],
    counters: tuple[int, ...],
) -> list[dict[str, Any]]:
    """Fill ``rows``' connections, docs and stamps from the connections'
    numbers and ``kept``; the rows of those whose document must be built
    again (read in full only for them)."""
    table = env.schema.table("ipsec_site_connection")
    number = env.schema.row_revision("ipsec_site_connection")
    assert number is not None
    ids = env.repo.conn.execute(
        sa.select(table.c.id, table.c.vpnservice_id, number).where(*where).order_by(table.c.id)
    ).all()
    by_id = {service["id"]: service for service in services}
    stale = []
    for conn_id, service_id, revision in ids:
        service = by_id[service_id]
        router = service["router_id"]
        address = rows.addresses.get(router)
        stamp = (revision, service["admin_state_up"], service["subnet_id"], address, counters)
        doc = kept.doc(router, conn_id, stamp) if revision is not None else None
        if revision is not None:
            rows.stamps[conn_id] = stamp
        if doc is None:
            stale.append(conn_id)
        else:
            rows.docs[conn_id] = doc
    res = env.res("ipsec_site_connection")
    if len(stale) == len(ids):  # nothing kept: by the services, not thousands of ids
        conns = env.repo.find(res, *where) if ids else []
    else:
        conns = env.repo.find(res, table.c.id.in_(stale)) if stale else []
    read = {conn["id"]: conn for conn in conns}
    for conn_id, service_id, _ in ids:  # a row deleted since it was numbered: left out
        if conn_id in rows.docs or conn_id in read:
            rows.connections.setdefault(service_id, []).append(read.get(conn_id, {"id": conn_id}))
    return conns


def connection_rows(env: RuleEnv, service: dict[str, Any], conn: dict[str, Any]) -> Rows:
    """The rows of ``conn``'s own configuration (its endpoint groups, the
    CIDRs of its local subnets, its router's address) and none of its
    router's other connections: what a create or an update checks, by id."""
    router_id = service["router_id"]
    groups: dict[str, dict[str, Any]] = {}
    for group_id in (conn["local_ep_group_id"], conn["peer_ep_group_id"]):
        group = env.repo.get(env.res("endpoint_group"), group_id) if group_id else None
        if group is not None:
            groups[group["id"]] = group
    subnet_ids = [service["subnet_id"]] if service["subnet_id"] else []
    subnet_ids.extend(
        e for g in groups.values() if g["type"] == ENDPOINT_SUBNET for e in g["endpoints"]
    )
    cidrs = {s: env.repo.value(env.res("subnet"), s, "cidr") for s in dict.fromkeys(subnet_ids)}
    address = next((ip for ip in gateway_ips(env, router_id) if ip_version(ip) == 4), None)
    return Rows(
        addresses={router_id: address},
        services={},
        connections={},
        subnet_cidrs={s: str(cidr) for s, cidr in cidrs.items() if cidr is not None},
        groups={gid: list(g["endpoints"]) for gid, g in groups.items()},
        policies={},
    )


def _by_id(env: RuleEnv, member: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    table = env.schema.table(member)
    return {o["id"]: o for o in env.repo.find(env.res(member), table.c.id.in_(sorted(ids)))}


def _grouped(objs: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for obj in objs:
        found.setdefault(obj[key], []).append(obj)
    return found


def gateway_addresses(env: RuleEnv, routers: list[str]) -> dict[str, str | None]:
    """Each router's outside address: its gateway port's first IPv4 address."""
    ports = env.schema.table("port")
    fixed = env.schema.child("port", "fixed_ips")
    rows = env.repo.conn.execute(
        sa.select(ports.c.device_id, fixed.table.c.ip_address)
        .join(ports, ports.c.id == fixed.parent)
        .where(ports.c.device_id.in_(routers), ports.c.device_owner == DEVICE_OWNER_GATEWAY)
        .order_by(ports.c.device_id, fixed.position)
    )
    found: dict[str, str | None] = dict.fromkeys(routers)
    for router, address in rows:
        if found[router] is None and ip_version(address) == 4:
            found[router] = address
    return found


def router_doc(rows: Rows, router_id: str) -> dict[str, Any]:
    address = rows.addresses.get(router_id)
    return {
        "id": router_id,
        "local_address": address,
        "services": [
            {
                "id": service["id"],
                "admin_state_up": service["admin_state_up"],
                "connections": [
                    rows.docs.get(conn["id"]) or connection_doc(rows, service, conn, address)
                    for conn in rows.connections.get(service["id"], [])
                ],
            }
            for service in rows.services.get(router_id, [])
        ],
    }


def connection_doc(
    rows: Rows, service: dict[str, Any], conn: dict[str, Any], address: str | None
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
        "local_cidrs": local_cidrs(rows, service, conn),
        "peer_cidrs": peer_cidrs(rows, conn),
        "psk": conn["psk"],
        "mtu": conn["mtu"],
        "initiator": conn["initiator"],
        "dpd": conn["dpd"],
        "split_selector": conn["split_selector"],
        "ikepolicy": _policy(rows, conn["ikepolicy_id"], _IKE_KEYS),
        "ipsecpolicy": _policy(rows, conn["ipsecpolicy_id"], _IPSEC_KEYS),
    }
    revision = digest([doc, service["admin_state_up"]])
    return {"id": doc["id"], "revision": revision, **doc}


def local_cidrs(rows: Rows, service: dict[str, Any], conn: dict[str, Any]) -> list[str]:
    """The service's subnet, or the subnets of the local endpoint group."""
    if service["subnet_id"] is not None:
        subnet_ids = [service["subnet_id"]]
    else:
        subnet_ids = rows.groups.get(conn["local_ep_group_id"] or "", [])
    return [rows.subnet_cidrs[s] for s in subnet_ids if s in rows.subnet_cidrs]


def peer_cidrs(rows: Rows, conn: dict[str, Any]) -> list[str]:
    """``peer_cidrs``, or the CIDRs of the peer endpoint group."""
    if conn["peer_cidrs"]:
        return list(conn["peer_cidrs"])
    return list(rows.groups.get(conn["peer_ep_group_id"] or "", []))


def _policy(rows: Rows, obj_id: str, keys: tuple[str, ...]) -> dict[str, Any]:
    policy = rows.policies.get(obj_id, {"id": obj_id})
    return {name: policy.get(name) for name in keys}
