"""Agents, and the reason behind each connection's last reported status.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agent_type", sa.String(length=255), nullable=False),
        sa.Column("binary", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("alive", sa.Boolean(), nullable=False),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("heartbeat_timestamp", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.String(length=32), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("configurations", sa.String(length=4096), nullable=False),
        sa.Column("resources_synced", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    for column in ("agent_type", "binary", "topic", "host", "admin_state_up", "alive"):
        op.create_index(op.f(f"ix_agents_{column}"), "agents", [column, "id"], unique=False)
    op.create_index(
        op.f("ix_agents_heartbeat_timestamp"), "agents", ["heartbeat_timestamp", "id"], unique=False
    )
    op.add_column(
        "ipsec_site_connections",
        sa.Column("status_reason", sa.String(length=255), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("ipsec_site_connections") as batch:
        batch.drop_column("status_reason")
    op.drop_table("agents")
