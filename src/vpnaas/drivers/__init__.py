"""Data-plane drivers: told about committed changes, they report status back.

A driver runs after the request's transaction has committed, never inside
it. It may change only the ``status`` of VPN services and IPsec site
connections, through :class:`StatusWriter`.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa

from vpnaas.db.engine import Database, retrying
from vpnaas.db.revisions import bump
from vpnaas.db.statements import Statement
from vpnaas.db.tables import Schema
from vpnaas.spec import Catalog, Resource
from vpnaas.spec.vpn import DOWN, PENDING_STATUSES

__all__ = ["Driver", "StatusWriter", "make_driver"]

#: the resources whose status a driver owns
STATUS_RESOURCES = ("vpnservice", "ipsec_site_connection")


class StatusWriter:
    """Writes the ``status`` of services and connections."""

    def __init__(self, db: Database, schema: Schema, cat: Catalog) -> None:
        self.db = db
        self.schema = schema
        self.catalog = cat

    def set(self, member: str, obj_id: str, status: str, *, only_pending: bool = False) -> None:
        """Set ``status`` (only over a pending one with ``only_pending``), in a
        transaction of its own that counts as a write of ``member``."""

        def build() -> Any:
            table = self.schema.table(member)
            stmt = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("obj_id"))
                .values(status=sa.bindparam("new_status"))
            )
            if only_pending:
                stmt = stmt.where(table.c.status.in_(sorted(PENDING_STATUSES)))
            return stmt

        stmt = self.schema.statements.get(Statement.SET_STATUS, member, (only_pending,), build)
        params = {"obj_id": obj_id, "new_status": status}

        def write() -> None:
            with self.db.write() as conn:
                if conn.execute(stmt, params).rowcount:
                    bump(conn, self.schema, [member])

        retrying(write)


class Driver(Protocol):
    """What the API tells a data plane."""

    def created(self, res: Resource, obj: dict[str, Any]) -> None: ...

    def updated(self, res: Resource, obj: dict[str, Any], before: dict[str, Any]) -> None: ...

    def deleted(self, res: Resource, obj: dict[str, Any]) -> None: ...


class NullDriver:
    """No tunnels: services and connections leave ``PENDING_*`` for ``DOWN``.

    Without a data plane nothing is ever up, so nothing is reported
    ``ACTIVE`` (``docs/api/vpn-services.md`` §status). With ``settle=False``
    they stay pending, as on a reference server without agents (updates are
    then refused with ``VPNStateInvalidToUpdate``).
    """

    def __init__(self, status: StatusWriter, *, settle: bool = True) -> None:
        self.status = status
        self.settle = settle

    def created(self, res: Resource, obj: dict[str, Any]) -> None:
        if self.settle and res.member in STATUS_RESOURCES:
            self.status.set(res.member, obj["id"], DOWN, only_pending=True)

    def updated(self, res: Resource, obj: dict[str, Any], before: dict[str, Any]) -> None:
        # an update leaves a settled status as it was: nothing to write
        if self.settle and res.member in STATUS_RESOURCES and obj["status"] in PENDING_STATUSES:
            self.status.set(res.member, obj["id"], DOWN, only_pending=True)

    def deleted(self, res: Resource, obj: dict[str, Any]) -> None:
        """Nothing to tear down."""


def make_driver(name: str, status: StatusWriter, *, settle: bool = True) -> Driver:
    """The driver called ``name`` in configuration."""
    if name == "null":
        return NullDriver(status, settle=settle)
    if name == "strongswan":
        from vpnaas.drivers.strongswan import StrongswanDriver

        return StrongswanDriver()
    raise ValueError(f"unknown driver {name!r}")
