"""The strongswan driver: tunnels are built by ``vpnaas agent`` processes.

The driver itself never talks to charon. A created or updated service or
connection stays ``PENDING_*`` (the strongswan rules mark updates pending
inside their transaction) until an agent that applied its current desired
revision reports (:mod:`.reports`); a deleted one simply disappears from the
desired state the agents pull (:mod:`.state`).
"""

from __future__ import annotations

from typing import Any

from vpnaas.spec import Resource

__all__ = ["StrongswanDriver"]


class StrongswanDriver:
    """Leaves every status to the agents' reports."""

    def created(self, res: Resource, obj: dict[str, Any]) -> None:
        """The agents pick the new object up from the desired state."""

    def updated(self, res: Resource, obj: dict[str, Any], before: dict[str, Any]) -> None:
        """Likewise: the update changed the desired revision."""

    def deleted(self, res: Resource, obj: dict[str, Any]) -> None:
        """Gone from the desired state: the agents tear it down."""
