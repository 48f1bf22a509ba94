"""Sealed secrets: a column for the encrypted psk and one for its digest.

The clear ``psk`` column stays (empty for a sealed row, the value for a row
stored without a key). 1444 characters hold the Fernet token of the longest
psk (255 characters of up to 4 UTF-8 bytes each); the digest is the hex of a
SHA-256 HMAC.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ipsec_site_connections", sa.Column("psk_sealed", sa.String(length=1444), nullable=True)
    )
    op.add_column(
        "ipsec_site_connections", sa.Column("psk_digest", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    # sealed psks exist only in these columns: dropping them would lose them
    sealed = (
        op.get_bind()
        .execute(
            sa.text("SELECT count(*) FROM ipsec_site_connections WHERE psk_sealed IS NOT NULL")
        )
        .scalar()
    )
    if sealed:
        raise RuntimeError(f"{sealed} psks are encrypted at rest: 0004 cannot be downgraded")
    op.drop_column("ipsec_site_connections", "psk_digest")
    op.drop_column("ipsec_site_connections", "psk_sealed")
