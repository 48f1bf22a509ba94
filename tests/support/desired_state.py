"""Desired-state documents (docs/agent-protocol.md) built in tests, for
agents run without a server: :func:`connection` builds one side's view of a
connection, :func:`state` wraps connections into the document."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["connection", "mirror", "state"]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def connection(
    conn_id: str,
    *,
    local: str,
    peer: str,
    local_cidrs: list[str],
    peer_cidrs: list[str],
    psk: str = "test-psk-0123456789",
    ike_version: str = "v2",
    admin_state_up: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """One connection as the agent receives it (``extra`` overrides fields,
    ``ikepolicy``/``ipsecpolicy`` entries are merged)."""
    doc: dict[str, Any] = {
        "id": conn_id,
        "name": conn_id[:8],
        "admin_state_up": admin_state_up,
        "local_address": local,
        "peer_address": peer,
        "local_id": local,
        "peer_id": peer,
        "local_cidrs": local_cidrs,
        "peer_cidrs": peer_cidrs,
        "psk": psk,
        "mtu": 1500,
        "initiator": "bi-directional",
        "dpd": {"action": "restart", "interval": 2, "timeout": 6},
        "split_selector": False,
        "ikepolicy": {
            "id": "ike",
            "ike_version": ike_version,
            "phase1_negotiation_mode": "main",
            "auth_algorithm": "sha256",
            "encryption_algorithm": "aes-128",
            "pfs": "group14",
            "lifetime": {"units": "seconds", "value": 3600},
        },
        "ipsecpolicy": {
            "id": "ipsec",
            "transform_protocol": "esp",
            "encapsulation_mode": "tunnel",
            "auth_algorithm": "sha256",
            "encryption_algorithm": "aes-128",
            "pfs": "group14",
            "lifetime": {"units": "seconds", "value": 3600},
        },
    }
    for key in ("ikepolicy", "ipsecpolicy"):
        doc[key].update(extra.pop(key, {}))
    doc.update(extra)
    doc["revision"] = _digest(doc)
    return doc


def mirror(doc: dict[str, Any]) -> dict[str, Any]:
    """The same connection seen from the other gateway."""
    other: dict[str, Any] = json.loads(json.dumps(doc))
    pairs = (
        ("local_address", "peer_address"),
        ("local_id", "peer_id"),
        ("local_cidrs", "peer_cidrs"),
    )
    for a, b in pairs:
        other[a], other[b] = doc[b], doc[a]
    other.pop("revision")
    other["revision"] = _digest(other)
    return other


def state(router: str, *connections: dict[str, Any], service_up: bool = True) -> dict[str, Any]:
    """The document for one router with one service holding ``connections``."""
    services = []
    if connections:
        services.append(
            {"id": f"svc-{router}", "admin_state_up": service_up, "connections": list(connections)}
        )
    local = connections[0]["local_address"] if connections else None
    body = {"routers": [{"id": router, "local_address": local, "services": services}]}
    return {"revision": _digest(body), **body}
