"""The desired-state document of ``GET /agent/v1/state``, typed, and the
grouping of its connections into charon IKE connections.

Connections of one router with the same (local address, peer address, local
id, peer id) share one IKE connection with one child each (a shared IKE SA:
strongSwan cannot tell them apart otherwise). The group's name is derived
from that key alone (:func:`group_name`), so connections joining or leaving a
group never rename it (a rename would end the IKE SA and every tunnel to that
peer); docs/agent-protocol.md fixes the names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Connection",
    "DesiredState",
    "Group",
    "Policy",
    "group_connections",
    "group_name",
    "parse_state",
]


@dataclass(frozen=True)
class Policy:
    """An IKE or IPsec policy as the desired state carries it."""

    auth_algorithm: str
    encryption_algorithm: str
    pfs: str
    lifetime_units: str
    lifetime_value: int
    ike_version: str = "v2"
    phase1_negotiation_mode: str = "main"
    transform_protocol: str = "esp"
    encapsulation_mode: str = "tunnel"

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Policy:
        lifetime = doc.get("lifetime") or {}
        extra = {
            key: doc[key]
            for key in (
                "ike_version",
                "phase1_negotiation_mode",
                "transform_protocol",
                "encapsulation_mode",
            )
            if key in doc
        }
        return cls(
            auth_algorithm=doc["auth_algorithm"],
            encryption_algorithm=doc["encryption_algorithm"],
            pfs=doc["pfs"],
            lifetime_units=lifetime.get("units", "seconds"),
            lifetime_value=int(lifetime.get("value", 3600)),
            **extra,
        )


@dataclass(frozen=True)
class Connection:
    """One IPsec site connection, with its service's admin state folded in."""

    id: str
    revision: str
    router_id: str
    service_id: str
    enabled: bool  # the connection and its service are admin-up
    local_address: str
    peer_address: str
    local_id: str
    peer_id: str
    local_cidrs: tuple[str, ...]
    peer_cidrs: tuple[str, ...]
    psk: str
    mtu: int
    initiator: str
    dpd_action: str
    dpd_interval: int
    dpd_timeout: int
    split_selector: bool
    ikepolicy: Policy
    ipsecpolicy: Policy

    def __repr__(self) -> str:  # the psk never reaches a log line
        return f"Connection(id={self.id!r}, revision={self.revision!r})"

    @property
    def group_key(self) -> tuple[str, str, str, str, str]:
        return (self.router_id, self.local_address, self.peer_address, self.local_id, self.peer_id)


@dataclass(frozen=True)
class Group:
    """Connections that share one charon IKE connection, in id order."""

    name: str
    connections: tuple[Connection, ...]

    @property
    def first(self) -> Connection:
        """The connection the group's IKE settings come from (the API
        refuses groups whose IKE settings differ)."""
        return self.connections[0]

    @property
    def enabled(self) -> tuple[Connection, ...]:
        return tuple(c for c in self.connections if c.enabled)

    @property
    def secret_id(self) -> str:
        return f"psk-{self.name}"


@dataclass(frozen=True)
class DesiredState:
    """Everything the agent should have loaded, and the document's revision."""

    revision: str
    routers: tuple[str, ...]
    connections: tuple[Connection, ...]

    def groups(self) -> list[Group]:
        return group_connections(self.connections)


def _connection(router: Mapping[str, Any], service: Mapping[str, Any], doc: Any) -> Connection:
    dpd = doc.get("dpd") or {}
    local_address = doc.get("local_address") or router.get("local_address") or ""
    return Connection(
        id=doc["id"],
        revision=doc["revision"],
        router_id=router["id"],
        service_id=service["id"],
        enabled=bool(doc.get("admin_state_up", True)) and bool(service.get("admin_state_up", True)),
        local_address=local_address,
        peer_address=doc["peer_address"],
        local_id=doc.get("local_id") or local_address,
        peer_id=doc.get("peer_id") or doc["peer_address"],
        local_cidrs=tuple(doc.get("local_cidrs") or ()),
        peer_cidrs=tuple(doc.get("peer_cidrs") or ()),
        psk=doc.get("psk") or "",
        mtu=int(doc.get("mtu") or 1500),
        initiator=doc.get("initiator") or "bi-directional",
        dpd_action=dpd.get("action", "hold"),
        dpd_interval=int(dpd.get("interval", 30)),
        dpd_timeout=int(dpd.get("timeout", 120)),
        split_selector=bool(doc.get("split_selector", False)),
        ikepolicy=Policy.from_doc(doc["ikepolicy"]),
        ipsecpolicy=Policy.from_doc(doc["ipsecpolicy"]),
    )


def parse_state(doc: Mapping[str, Any]) -> DesiredState:
    """The typed form of a ``GET /agent/v1/state`` answer."""
    connections: list[Connection] = []
    routers: list[str] = []
    for router in doc.get("routers") or ():
        routers.append(router["id"])
        for service in router.get("services") or ():
            connections.extend(
                _connection(router, service, c) for c in service.get("connections") or ()
            )
    return DesiredState(
        revision=str(doc.get("revision", "")),
        routers=tuple(routers),
        connections=tuple(sorted(connections, key=lambda c: c.id)),
    )


def group_name(key: Sequence[str]) -> str:
    """``vpn-`` and a digest of a group's key (router, local address, peer
    address, local id, peer id): the same for as long as the group exists,
    whichever connections it holds."""
    digest = hashlib.sha256("\0".join(key).encode("utf-8")).hexdigest()
    return f"vpn-{digest[:20]}"


def group_connections(connections: Sequence[Connection]) -> list[Group]:
    """Connections grouped by (router, local address, peer address, local id,
    peer id), each group in id order and named by :func:`group_name`; groups
    in the order of their first connection's id."""
    by_key: dict[tuple[str, ...], list[Connection]] = {}
    for conn in sorted(connections, key=lambda c: c.id):
        by_key.setdefault(conn.group_key, []).append(conn)
    return [
        Group(name=group_name(key), connections=tuple(members)) for key, members in by_key.items()
    ]
