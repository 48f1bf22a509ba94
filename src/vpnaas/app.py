"""``create_app(settings)``: the WSGI application and its middleware, in order.

From the outside in:

1. ``HTTPProxyToWSGI`` (oslo.middleware), when ``[oslo_middleware]
   enable_proxy_headers_parsing`` is on: honour ``X-Forwarded-Proto`` and
   friends, so links carry the scheme the client used.
2. ``RequestId``: every response gets ``x-openstack-request-id: req-<uuid>``.
3. ``Observe`` (:mod:`vpnaas.api.access`), when ``access_log`` or ``[metrics]
   enabled`` is on: the access log line (logger ``vpnaas.access``) and the
   request metrics of everything below, labelled by route template.
4. ``Mount``: ``/healthcheck`` (oslo.middleware's healthcheck, see
   :mod:`vpnaas.health`) and the console under ``/ui/`` (its own sessions,
   see :mod:`vpnaas.ui`) are served beside the API, never through its
   authentication.
5. ``OpenPaths``: ``GET /`` (version discovery) and ``GET /v2.0/openapi.json``
   (the API's contract) skip authentication.
6. Authentication: ``auth_token`` (keystonemiddleware) then ``KeystoneContext``
   in keystone mode, ``NoAuth`` in the embedded default; both leave a
   :class:`~vpnaas.context.RequestContext` in the environ.
7. The Falcon application: routes derived from the catalog; every error is
   rendered as a NeutronError document there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import falcon
from oslo_middleware import http_proxy_to_wsgi

from vpnaas.api import http, openapi, routes
from vpnaas.api.access import Observe
from vpnaas.api.agent import AgentAPI, AgentsOnly, add_agent_routes
from vpnaas.api.controller import Controller
from vpnaas.api.openapi_shapes import OPENAPI_PATH
from vpnaas.api.request_id import RequestId
from vpnaas.api.views import add_view_routes
from vpnaas.auth import KeystoneContext, NoAuth, OpenPaths, WSGIApp
from vpnaas.db import tables
from vpnaas.db.engine import Database
from vpnaas.db.secrets import Sealer
from vpnaas.drivers import StatusWriter, make_driver
from vpnaas.health import healthcheck_app
from vpnaas.hooks import ResourceRules, RuleOptions
from vpnaas.hooks.compose import compose
from vpnaas.policy import Authorizer
from vpnaas.rules.registry import vpn_contribution
from vpnaas.settings import Settings, new_conf
from vpnaas.spec import Catalog, catalog
from vpnaas.topology import topology_contribution, topology_hooks
from vpnaas.ui import create_console

__all__ = ["AgentApplication", "Application", "create_agent_app", "create_app"]

LOG = logging.getLogger(__name__)


@dataclass
class Application:
    """The WSGI callable plus the parts tests and the CLI reach for."""

    wsgi: WSGIApp
    controller: Controller
    db: Database

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)


def create_app(settings: Settings, cat: Catalog | None = None) -> Application:
    """Build the application for ``settings`` (no I/O beyond the engine);
    ``cat`` replaces the resources this release declares (tests use it to show
    that a new attribute needs nothing but its declaration)."""
    if cat is None:
        cat = catalog(legacy_crypto=settings.legacy_crypto)
    conf = _conf(settings)
    db = Database(settings.database_url, settings.pool)
    schema = tables.schema() if cat.resources == catalog().resources else tables.Schema(cat)
    authorizer = Authorizer(conf, cat)
    # the core topology first: its rules run before the VPN rules of a resource
    parts = compose(topology_contribution(), vpn_contribution(_driver_rules(settings)))
    controller = Controller(
        catalog=cat,
        db=db,
        schema=schema,
        authorizer=authorizer,
        rules=parts.rules,
        hooks=parts.hooks,
        guards=parts.guards,
        actions=parts.actions,
        sealer=_sealer(settings),
        driver=make_driver(
            settings.driver, StatusWriter(db, schema, cat), settle=settings.null_driver_settles
        ),
        options=RuleOptions(
            peer_hosts_file=settings.peer_hosts_file, network_max_mtu=settings.network_max_mtu
        ),
        filter_validation=settings.filter_validation,
        max_limit=settings.pagination_max_limit,
        response_cache=settings.response_cache,
    )
    router = falcon.routing.CompiledRouter()
    api = falcon.App(middleware=http.Shape(), router=router)
    api.add_error_handler(Exception, http.handle_error)
    api.add_error_handler(falcon.HTTPError, http.handle_error)
    limits = routes.Limits(settings.max_body_size, settings.network_link_prefix)
    routes.add_discovery_routes(api, cat)
    routes.add_openapi_route(api, openapi.document(cat))
    routes.add_resource_routes(api, controller, cat, limits)
    add_view_routes(api, controller, settings.driver)
    wsgi: WSGIApp = _authenticated(api, settings, conf, authorizer)
    wsgi = OpenPaths(wsgi, api, ["/", "", OPENAPI_PATH])
    mounts = {"/healthcheck": healthcheck_app(conf, db)}
    if settings.console.enabled:
        mounts["/ui"] = create_console(controller, settings, api, _keystone_url(settings, conf))
    wsgi = Mount(wsgi, mounts)
    wsgi = _observed(wsgi, settings, cat, router, list(mounts), listener="api")
    wsgi = RequestId(wsgi)
    conf.register_opts(http_proxy_to_wsgi.OPTS, group="oslo_middleware")
    if conf.oslo_middleware.enable_proxy_headers_parsing:
        wsgi = http_proxy_to_wsgi.HTTPProxyToWSGI(wsgi, conf)
    return Application(wsgi=wsgi, controller=controller, db=db)


def _sealer(settings: Settings) -> Sealer:
    """The keys of secret attributes; :class:`SecretKeyError` if unusable."""
    sealer = Sealer.configured(settings.secret_keys, settings.secret_key_file)
    if not sealer.enabled:
        LOG.warning(
            "secrets (the psk) are stored in clear: set [vpnaas] secret_key or "
            "secret_key_file to encrypt them at rest"
        )
    return sealer


class Mount:
    """Send a path and everything under it to another application."""

    def __init__(self, app: WSGIApp, mounts: dict[str, WSGIApp]) -> None:
        self.app = app
        self.mounts = mounts

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        for prefix, mounted in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                return mounted(environ, start_response)
        return self.app(environ, start_response)


def _keystone_url(settings: Settings, conf: Any) -> str | None:
    """Where the console logs users in: ``[console] auth_url``, else the
    Keystone keystonemiddleware sends clients to."""
    if settings.console.auth_url or settings.auth_strategy != "keystone":
        return settings.console.auth_url
    url = conf.keystone_authtoken.www_authenticate_uri
    return str(url) if url else None


@dataclass
class AgentApplication:
    """The agent API's WSGI callable and its parts."""

    wsgi: WSGIApp
    api: AgentAPI
    db: Database

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)

    def close(self) -> None:
        self.api.sweeper.stop()
        self.db.dispose()


def create_agent_app(settings: Settings) -> AgentApplication:
    """The agent API (docs/agent-protocol.md) for ``settings``: the same
    authentication as the API, the admin or service role on every request,
    and the liveness sweeper running beside it."""
    cat = catalog(legacy_crypto=settings.legacy_crypto)
    conf = _conf(settings)
    db = Database(settings.database_url, settings.pool)
    sealer = Sealer.configured(settings.secret_keys, settings.secret_key_file)
    agent_api = AgentAPI(
        db, tables.schema(), cat, topology_hooks(), settings.agent_api.agent_down_time, sealer
    )
    router = falcon.routing.CompiledRouter()
    api = falcon.App(middleware=[AgentsOnly()], router=router)
    api.add_error_handler(Exception, http.handle_error)
    api.add_error_handler(falcon.HTTPError, http.handle_error)
    add_agent_routes(api, agent_api, settings.max_body_size)
    wsgi: WSGIApp = _authenticated(api, settings, conf, Authorizer(conf, cat))
    wsgi = RequestId(_observed(wsgi, settings, cat, router, [], listener="agent"))
    agent_api.sweeper.start()
    return AgentApplication(wsgi=wsgi, api=agent_api, db=db)


#: logger and metric prefix of each listener's requests
_OBSERVED = {
    "api": ("vpnaas.access", "vpnaas_api"),
    "agent": ("vpnaas.access.agent", "vpnaas_agent_api"),
}


def _observed(
    app: WSGIApp,
    settings: Settings,
    cat: Catalog,
    router: falcon.routing.CompiledRouter,
    mounts: Sequence[str],
    *,
    listener: str,
) -> WSGIApp:
    """``app`` behind :class:`Observe` when the access log or metrics are on."""
    if not settings.access_log and not settings.metrics.enabled:
        return app
    logger, prefix = _OBSERVED[listener]
    record = None
    if settings.metrics.enabled:
        from vpnaas.metrics.requests import RequestMetrics

        record = RequestMetrics(prefix)
    return Observe(
        app,
        log=logging.getLogger(logger) if settings.access_log else None,
        secrets={f.name for r in cat.resources for f in r.fields if f.secret},
        router=router,
        mounts=mounts,
        record=record,
    )


def _conf(settings: Settings) -> Any:
    """The ``ConfigOpts`` settings were read from, or defaults."""
    if settings.conf is not None:
        return settings.conf
    conf = new_conf()
    conf([], project="vpnaas", default_config_files=[], default_config_dirs=[])
    return conf


def _driver_rules(settings: Settings) -> dict[str, ResourceRules]:
    """The checks the data plane adds to the VPN rules (none for null)."""
    if settings.driver != "strongswan":
        return {}
    from vpnaas.drivers.strongswan.rules import strongswan_rules

    return strongswan_rules(allow_aggressive=settings.allow_aggressive_mode)


def _authenticated(api: WSGIApp, settings: Settings, conf: Any, authorizer: Authorizer) -> WSGIApp:
    if settings.auth_strategy == "keystone":
        from keystonemiddleware import auth_token

        protected: WSGIApp = auth_token.AuthProtocol(
            KeystoneContext(api, authorizer), {"oslo_config_config": conf}
        )
        return protected
    LOG.warning("authentication is off (auth_strategy = noauth): identity headers are trusted")
    return NoAuth(api, authorizer, settings.noauth_project_id)
