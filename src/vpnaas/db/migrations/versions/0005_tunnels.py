"""Tunnels: the telemetry agents report for each IPsec site connection, its
traffic totals across rekeys and its last status changes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tunnels",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("last_status_change", sa.String(length=32), nullable=True),
        sa.Column("sas", sa.Text(), nullable=False),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ipsec_site_connections.id"],
            name=op.f("fk_tunnels_connection_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_tunnels")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def downgrade() -> None:
    op.drop_table("tunnels")
