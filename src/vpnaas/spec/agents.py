"""Agents: the ``vpnaas agent`` processes that build tunnels, in Neutron's
agents shape (``GET /v2.0/agents``, admin only, read-only).

Rows are written by the agent API (a report is a heartbeat) and by the
liveness sweep, never through the public API. An agent is identified by its
host: its id is derived from the host name, so two servers recording the
same agent agree on the row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vpnaas.spec.kinds import Bool, Column, Invalid, Kind, Str, Uuid
from vpnaas.spec.resource import Field, Policy, Resource

__all__ = [
    "AGENT_BINARY",
    "AGENT_TOPIC",
    "AGENT_TYPE",
    "CONFIGURATIONS_MAX",
    "TIMESTAMP_FORMAT",
    "agent_id",
    "agent_resources",
]

AGENT_TYPE = "VPN Agent"
AGENT_BINARY = "vpnaas-agent"
AGENT_TOPIC = "vpnaas"
#: Neutron's agent timestamps: UTC, no zone suffix (``2026-12-07 00:00:00``)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
#: the longest ``configurations`` document kept, encoded
CONFIGURATIONS_MAX = 4096
_AGENT_NAMESPACE = uuid.UUID("5d1f4a3e-1c52-4f0e-9a3c-7b1e2f6d9a10")


def agent_id(host: str) -> str:
    """The id of the agent on ``host`` (the same on every server)."""
    return str(uuid.uuid5(_AGENT_NAMESPACE, host))


@dataclass(frozen=True)
class JsonObject(Kind):
    """A JSON object kept encoded in one column (never a filter)."""

    filterable = False

    def validate(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"'{value}' is not a dictionary")
        if len(json.dumps(value, sort_keys=True)) > CONFIGURATIONS_MAX:
            raise Invalid(f"exceeds maximum length of {CONFIGURATIONS_MAX}")

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", CONFIGURATIONS_MAX),)

    def store(self, value: Any) -> tuple[Any, ...]:
        return (json.dumps(value, sort_keys=True),)

    def load(self, values: Sequence[Any]) -> Any:
        return json.loads(values[0]) if values[0] else {}


def _read_only(name: str, kind: Kind, default: Any = None, **flags: Any) -> Field:
    return Field(name=name, kind=kind, default=default, create=False, update=False, **flags)


def agent_resources() -> tuple[Resource, ...]:
    """The agents collection (the ``agent`` extension)."""
    stamp = Str(32, nullable=True)
    agent = Resource(
        member="agent",
        collection="agents",
        path="/agents",
        not_found="AgentNotFound",
        extension="agent",
        writable=False,
        policy=Policy(get="ADMIN", update="ADMIN", delete="ADMIN"),
        fields=(
            Field(name="id", kind=Uuid(), default=None, create=False, update=False, sort=True),
            _read_only("agent_type", Str(255), AGENT_TYPE, sort=True),
            _read_only("binary", Str(255), AGENT_BINARY, sort=True),
            _read_only("topic", Str(255), AGENT_TOPIC, sort=True),
            _read_only("host", Str(255), sort=True),
            _read_only("admin_state_up", Bool(), True, sort=True),
            _read_only("alive", Bool(), True, sort=True),
            _read_only("availability_zone", Str(255, nullable=True), None),
            _read_only("heartbeat_timestamp", stamp, sort=True),
            _read_only("created_at", stamp),
            _read_only("started_at", stamp),
            _read_only("description", Str(255), ""),
            _read_only("configurations", JsonObject(), {}),
            _read_only("resources_synced", Str(8, nullable=True), None, filter=False),
        ),
    )
    return (agent,)
