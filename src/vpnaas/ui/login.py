"""The two ways into the console: a Keystone password login, and noauth's
project-and-roles form for development."""

from __future__ import annotations

import datetime as dt
import logging

from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3

from vpnaas.settings import ConsoleOptions
from vpnaas.ui.sessions import Login

__all__ = ["LoginFailed", "keystone_login", "noauth_login"]

LOG = logging.getLogger(__name__)


class LoginFailed(Exception):
    """The login was refused; the message is shown to the user."""


def keystone_login(
    opts: ConsoleOptions, auth_url: str, user: str, password: str, project: str
) -> Login:
    """A project-scoped token for ``user`` (keystoneauth1's password plugin).

    Raises:
        LoginFailed: wrong credentials, no role on the project, or Keystone
            cannot be reached.
    """
    if not (user and password and project):
        raise LoginFailed("User name, password and project are required.")
    auth = v3.Password(
        auth_url=auth_url,
        username=user,
        password=password,
        user_domain_id=opts.user_domain_id,
        project_name=project,
        project_domain_id=opts.project_domain_id,
    )
    try:
        access = auth.get_access(ksa_session.Session(auth=auth, timeout=15))
    except (ksa_exceptions.Unauthorized, ksa_exceptions.NotFound) as exc:
        LOG.info("console login refused for %s: %s", user, type(exc).__name__)
        raise LoginFailed("The user name, password or project is wrong.") from exc
    except ksa_exceptions.ClientException as exc:
        LOG.warning("console login: Keystone at %s failed: %s", auth_url, type(exc).__name__)
        raise LoginFailed("Keystone cannot be reached; try again later.") from exc
    if access.expires is None or not access.project_id:
        raise LoginFailed("Keystone gave no project-scoped token.")
    return Login(
        auth="keystone",
        user_name=user,
        user_id=access.user_id,
        project_id=access.project_id,
        roles=tuple(access.role_names or ()),
        expires_at=access.expires,
        token=access.auth_token,
    )


def noauth_login(opts: ConsoleOptions, project: str, roles: str, user: str) -> Login:
    """Whatever identity the form asks for (noauth trusts the caller)."""
    project = project.strip()
    if not project:
        raise LoginFailed("A project id is required.")
    names = tuple(r.strip() for r in roles.split(",") if r.strip()) or ("member",)
    return Login(
        auth="noauth",
        user_name=user.strip() or "developer",
        user_id=user.strip() or None,
        project_id=project,
        roles=names,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=opts.session_lifetime),
    )
