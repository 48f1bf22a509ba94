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

__all__ = ["TUNNEL_MEMBER", "load_tunnel", "save_tunnel", "status_notes", "tunnels_table"]

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


def load_tunnel(conn: sa.Connection, table: sa.Table, connection_id: str) -> dict[str, Any] | None:
    """The row of ``connection_id`` with its documents decoded, or None."""
    row = conn.execute(sa.select(table).where(table.c.connection_id == connection_id)).first()
    if row is None:
        return None
    found = dict(row._mapping)
    for key in _JSON:
        found[key] = orjson.loads(found[key])
    return found


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


def save_tunnel(conn: sa.Connection, table: sa.Table, row: dict[str, Any], *, exists: bool) -> None:
    """Insert or replace the row of ``row["connection_id"]``."""
    values = {**row, **{key: orjson.dumps(row[key]).decode() for key in _JSON}}
    if exists:
        conn.execute(
            sa.update(table)
            .where(table.c.connection_id == row["connection_id"])
            .values({k: v for k, v in values.items() if k != "connection_id"})
        )
    else:
        conn.execute(sa.insert(table).values(values))
