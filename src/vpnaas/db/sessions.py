"""The ``sessions`` table: console logins, kept server side.

The browser holds only a random session id in a cookie; this table holds
what that id stands for (who, in which project, with which roles, the
Keystone token in keystone mode, the CSRF token, and when it ends). Rows are
keyed by a hash of the id, so the table alone cannot be replayed as cookies.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["sessions_table"]


def sessions_table(metadata: sa.MetaData, **options: Any) -> sa.Table:
    return sa.Table(
        "sessions",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("user_name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=True),
        sa.Column("roles", sa.String(1024), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_sessions_expires_at", "expires_at"),
        **options,
    )
