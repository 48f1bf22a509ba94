"""The ``tunnels`` table: what the data plane last said about each IPsec
site connection (docs/agent-protocol.md §telemetry).

One row per connection that an agent has reported on, deleted with the
connection. ``sas`` holds the latest SAs as the agent described them,
``counters`` what traffic totals are built from (the last counters of every
live child SA, and the sum of those retired), ``history`` the last status
changes. All three are JSON documents: nothing filters or sorts on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

__all__ = [
    "TUNNEL_MEMBER",
    "load_tunnel",
    "load_tunnels",
    "save_tunnels",
    "status_notes",
    "tunnels_table",
]

#: the write counter (``revisions``) a change of this table bumps
TUNNEL_MEMBER = "tunnel"
_JSON = ("sas", "counters", "history")


def tunnels_table(metadata: sa.MetaData, **options: Any) -> sa.Table:
    return sa.Table(
        "tunnels",
        metadata,
        sa.Column(
            "connection_id",
            sa.String(36),
            sa.ForeignKey("ipsec_site_connections.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("last_status_change", sa.String(32), nullable=True),
        sa.Column("sas", sa.Text(), nullable=False),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        **options,
    )


def _decoded(row: sa.Row[Any]) -> dict[str, Any]:
    found = dict(row._mapping)
    for key in _JSON:
        found[key] = orjson.loads(found[key])
    return found


def load_tunnel(conn: sa.Connection, table: sa.Table, connection_id: str) -> dict[str, Any] | None:
    """The row of ``connection_id`` with its documents decoded, or None."""
    row = conn.execute(sa.select(table).where(table.c.connection_id == connection_id)).first()
    return None if row is None else _decoded(row)


def load_tunnels(
    conn: sa.Connection, table: sa.Table, ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The rows of those of ``ids`` that have one, decoded, in one query."""
    if not ids:
        return {}
    rows = conn.execute(sa.select(table).where(table.c.connection_id.in_(list(ids))))
    return {row.connection_id: _decoded(row) for row in rows}


def status_notes(
    conn: sa.Connection, connections: sa.Table, tunnels: sa.Table, ids: Sequence[str]
) -> dict[str, tuple[str | None, str | None]]:
    """``(last_status_change, status_reason)`` of each of ``ids``, in one
    query. The caller passes only ids it may already see: nothing here
    checks visibility. An id with no row is left out."""
    if not ids:
        return {}
    joined = connections.outerjoin(tunnels, tunnels.c.connection_id == connections.c.id)
    query = (
        sa.select(connections.c.id, tunnels.c.last_status_change, connections.c.status_reason)
        .select_from(joined)
        .where(connections.c.id.in_(list(ids)))
    )
    return {row.id: (row.last_status_change, row.status_reason) for row in conn.execute(query)}


def _encoded(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{key: orjson.dumps(row[key]).decode() for key in _JSON}}


def save_tunnels(
    conn: sa.Connection,
    table: sa.Table,
    new: Sequence[dict[str, Any]],
    changed: Sequence[dict[str, Any]],
) -> None:
    """Insert the ``new`` rows and replace the ``changed`` ones: one
    statement each, whatever their number."""
    if new:
        conn.execute(sa.insert(table), [_encoded(row) for row in new])
    if changed:
        names = [c.name for c in table.c if c.name != "connection_id"]
        stmt = (
            sa.update(table)
            .where(table.c.connection_id == sa.bindparam("key"))
            .values({name: sa.bindparam(f"new_{name}") for name in names})
        )
        params = [
            {"key": row["connection_id"], **{f"new_{n}": _encoded(row)[n] for n in names}}
            for row in changed
        ]
        conn.execute(stmt, params)
