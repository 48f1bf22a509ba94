"""gabbi fixtures: a fresh vpnaas on a private SQLite file per YAML story.

Each story gets its own database with the seeded external network
(``$ENVIRON['PUBLIC_NETWORK_ID']``, 172.24.4.0/24 and 2001:db8:24::/64) and
two random projects (``$ENVIRON['PROJECT_A']``, ``$ENVIRON['PROJECT_B']``).
Peer host names resolve from a private hosts file, never over the network.

With ``VPNAAS_TEST_DATABASE_URL`` set to a server URL (for example
``postgresql+psycopg://vpnaas:vpnaas@127.0.0.1:5433/`` or
``mysql+pymysql://vpnaas:vpnaas@127.0.0.1:3307/``, see ``scripts/test-databases``)
each story gets a fresh database created on that server instead, dropped
when the story ends (:mod:`tests.support.databases`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import Any, ClassVar

from gabbi import fixture

from tests.support import databases
from vpnaas.app import AgentApplication, Application, create_agent_app, create_app
from vpnaas.db.tables import schema
from vpnaas.settings import Settings, TopologySeed
from vpnaas.topology.seed import seed_external_network

__all__ = [
    "APIFixture",
    "ConfiguredFixture",
    "LegacyCryptoFixture",
    "PendingFixture",
    "StrongswanFixture",
    "current_app",
]

_APP: list[Any] = []
#: a database server URL: each story then gets its own database there
SERVER_URL_ENV = "VPNAAS_TEST_DATABASE_URL"
HOSTS = "198.51.100.7 peer.example.test\n2001:db8:77::7 peer6.example.test\n"


def _current(environ: dict[str, Any], start_response: Any) -> Any:
    return _APP[-1](environ, start_response)


def current_app() -> Any:
    """gabbi's ``intercept``: a WSGI app forwarding to the running story's app
    (gabbi asks for it while collecting, before any fixture has started)."""
    return _current


class APIFixture(fixture.GabbiFixture):  # type: ignore[misc]
    """Start vpnaas in process on a private database."""

    overrides: ClassVar[dict[str, Any]] = {}

    def start_fixture(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="vpnaas-gabbi-")
        hosts = os.path.join(self.tmp, "hosts")
        with open(hosts, "w", encoding="utf-8") as f:
            f.write(HOSTS)
        public = str(uuid.uuid4())
        server_url = os.environ.get(SERVER_URL_ENV)
        self.server_database = databases.create_database(server_url) if server_url else None
        settings = Settings(
            database_url=self.server_database or f"sqlite:///{self.tmp}/vpnaas.sqlite",
            peer_hosts_file=hosts,
            seed=TopologySeed(network_id=public, ipv6_cidr="2001:db8:24::/64"),
        ).with_overrides(**self.overrides)
        app = create_app(settings)
        schema().metadata.create_all(app.db.engine)
        seed_external_network(app.controller, settings.seed)
        _APP.append(app)
        os.environ.update(
            PUBLIC_NETWORK_ID=public,
            PROJECT_A=uuid.uuid4().hex,
            PROJECT_B=uuid.uuid4().hex,
        )

    def stop_fixture(self) -> None:
        app = _APP.pop()
        app.db.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)
        server_database = getattr(self, "server_database", None)
        if server_database is not None:
            databases.drop_database(server_database)


class LegacyCryptoFixture(APIFixture):
    """vpnaas with ``legacy_crypto_algorithms = True`` (sha1/3des accepted)."""

    overrides: ClassVar[dict[str, Any]] = {"legacy_crypto": True}


class PendingFixture(APIFixture):
    """vpnaas whose null driver leaves services and connections pending, as a
    reference server without agents does."""

    overrides: ClassVar[dict[str, Any]] = {"null_driver_settles": False}


class ConfiguredFixture(APIFixture):
    """vpnaas with paging capped at 2, filter validation off and paging links
    under a proxy's public prefix."""

    overrides: ClassVar[dict[str, Any]] = {
        "pagination_max_limit": 2,
        "filter_validation": False,
        "network_link_prefix": "https://vpn.example.org/network",
    }


class _WithAgentAPI:
    """The API, and under ``/agent/`` the agent API, over one database."""

    def __init__(self, app: Application, agents: AgentApplication) -> None:
        self.app = app
        self.agents = agents
        self.db = app.db
        self.controller = app.controller

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/agent/"):
            return self.agents(environ, start_response)
        return self.app(environ, start_response)


class StrongswanFixture(APIFixture):
    """vpnaas with the strongswan driver, its agent API served under
    ``/agent/`` beside the API (``vpnaas serve`` gives it a listener of its own)."""

    overrides: ClassVar[dict[str, Any]] = {"driver": "strongswan"}

    def start_fixture(self) -> None:
        super().start_fixture()
        app = _APP.pop()
        settings = Settings(database_url=app.db.url, driver="strongswan")
        _APP.append(_WithAgentAPI(app, create_agent_app(settings)))

    def stop_fixture(self) -> None:
        _APP[-1].agents.close()
        super().stop_fixture()
