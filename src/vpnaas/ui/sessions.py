"""Console sessions: who a browser is logged in as, kept in the database.

The cookie carries only a random session id (:func:`new_id`); the row it
names (keyed by the id's SHA-256, see :mod:`vpnaas.db.sessions`) holds the
identity, the Keystone token in keystone mode, the CSRF token and the end of
the session. Expired rows are never answered and are removed on each login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from vpnaas.db.engine import Database

__all__ = ["Login", "Session", "SessionStore"]


@dataclass(frozen=True)
class Login:
    """Who logged in, as the login step established it."""

    auth: str  # "noauth" or "keystone"
    user_name: str
    user_id: str | None
    project_id: str | None
    roles: tuple[str, ...]
    expires_at: dt.datetime
    token: str | None = None


@dataclass(frozen=True)
class Session:
    """A live session: the login and its CSRF token."""

    csrf_token: str
    login: Login


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class SessionStore:
    """Create, find and end sessions in the ``sessions`` table."""

    def __init__(self, db: Database, table: sa.Table) -> None:
        self.db = db
        self.table = table

    def create(self, login: Login) -> tuple[str, Session]:
        """A new session for ``login``: the cookie value and the session."""
        session_id = secrets.token_urlsafe(32)
        session = Session(csrf_token=secrets.token_urlsafe(32), login=login)
        now = dt.datetime.now(dt.UTC)
        with self.db.write() as conn:
            conn.execute(sa.delete(self.table).where(self.table.c.expires_at <= now))
            conn.execute(
                sa.insert(self.table).values(
                    id=_key(session_id),
                    csrf_token=session.csrf_token,
                    auth=login.auth,
                    user_id=login.user_id,
                    user_name=login.user_name,
                    project_id=login.project_id,
                    roles=",".join(login.roles),
                    token=login.token,
                    created_at=now,
                    expires_at=_utc(login.expires_at),
                )
            )
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        """The live session ``session_id`` names, if any."""
        t = self.table
        query = sa.select(t).where(
            t.c.id == _key(session_id), t.c.expires_at > dt.datetime.now(dt.UTC)
        )
        with self.db.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        login = Login(
            auth=row["auth"],
            user_name=row["user_name"],
            user_id=row["user_id"],
            project_id=row["project_id"],
            roles=tuple(r for r in row["roles"].split(",") if r),
            expires_at=_utc(row["expires_at"]),
            token=row["token"],
        )
        return Session(csrf_token=row["csrf_token"], login=login)

    def delete(self, session_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(sa.delete(self.table).where(self.table.c.id == _key(session_id)))
