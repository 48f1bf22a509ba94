"""Row write counters: a ``row_revision`` on every resource table, indexed.

A write empties it and the transaction's bump of the resource's write
counter fills it with the counter's new value (``vpnaas.db.revisions``);
cached lists read the rows numbered above the counter they reflect. Rows
stored before this revision get 0: no list is cached across the upgrade.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: every resource table (the spec's collections)
TABLES = (
    "networks",
    "subnets",
    "routers",
    "ports",
    "ikepolicies",
    "ipsecpolicies",
    "vpnservices",
    "endpoint_groups",
    "ipsec_site_connections",
    "agents",
)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("row_revision", sa.BigInteger(), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET row_revision = 0"))  # noqa: S608
        op.create_index(op.f(f"ix_{table}_row_revision"), table, ["row_revision"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_row_revision"), table_name=table)
        op.drop_column(table, "row_revision")
