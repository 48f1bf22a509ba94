"""Configuration: oslo.config options, read once into a frozen :class:`Settings`.

Operators write an INI file the OpenStack way (``[DEFAULT]``, ``[database]``,
``[oslo_policy]``, ``[keystone_authtoken]``, ``[vpnaas]``, ``[topology]``);
command-line flags override it. Nothing reads the ``ConfigOpts`` after
:func:`load` except the libraries that need it themselves (oslo.policy,
keystonemiddleware).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from oslo_config import cfg

__all__ = [
    "AgentAPIOptions",
    "AgentSettings",
    "ConsoleOptions",
    "MetricsOptions",
    "PoolOptions",
    "Settings",
    "TopologySeed",
    "load",
    "load_agent",
    "new_conf",
]

DEFAULT_DATABASE = "sqlite:///vpnaas.sqlite"

_DEFAULT_OPTS = [
    cfg.StrOpt(
        "auth_strategy",
        default="noauth",
        choices=["noauth", "keystone"],
        help="noauth trusts X-Project-Id/X-User-Id/X-Roles headers; keystone "
        "validates tokens with keystonemiddleware.",
    ),
    cfg.StrOpt(
        "noauth_project_id",
        default="admin",
        help="noauth only: a request without any identity header acts in this "
        "project with the admin role (so clients that cannot send headers, like "
        "the openstack CLI, work). Empty: such a request is an admin without a "
        "project, as one that sends an empty X-Project-Id.",
    ),
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address to listen on."),
    cfg.PortOpt("bind_port", default=9696, help="Port to listen on."),
    cfg.IntOpt("api_workers", default=1, min=1, help="Number of API worker processes."),
    cfg.IntOpt(
        "api_threads",
        min=1,
        help="Threads per worker that run requests. Default: 1 on SQLite, whose "
        "requests never wait on a socket (more threads only take turns at the "
        "GIL); max_pool_size on PostgreSQL or MySQL, to overlap round-trips.",
    ),
    cfg.IntOpt(
        "pagination_max_limit", default=-1, help="Largest page a list returns; -1 for no cap."
    ),
    cfg.BoolOpt(
        "filter_validation",
        default=True,
        help="Refuse unknown or non-filterable query parameters with 400.",
    ),
    cfg.StrOpt(
        "network_link_prefix",
        help="Scheme, host and path prefix of paging links, when behind a proxy.",
    ),
    cfg.BoolOpt(
        "legacy_crypto_algorithms",
        default=False,
        help="Accept sha1 and 3des and default auth_algorithm to sha1 (the base "
        "API definition); by default vpn-no-sha1-3des holds.",
    ),
    cfg.IntOpt(
        "max_request_body_size", default=114688, help="Largest request body accepted, in bytes."
    ),
    cfg.BoolOpt(
        "response_cache",
        default=True,
        help="Keep encoded list and show answers per worker until a write to a "
        "resource they were built from (off: every read is built afresh).",
    ),
    cfg.IntOpt(
        "max_url_length",
        default=16384,
        min=256,
        help="Longest request URL (path and query string) accepted; longer is a 414.",
    ),
    cfg.IntOpt(
        "max_header_line",
        default=16384,
        min=256,
        help="Longest request header line (name and value) accepted; longer is a 431.",
    ),
    cfg.FloatOpt(
        "client_body_timeout",
        default=30.0,
        min=0.1,
        help="Seconds a client has to send the whole request body once its headers "
        "are in; then the request is answered 408.",
    ),
    cfg.BoolOpt(
        "access_log",
        default=True,
        help="Log one line per request (logger vpnaas.access; the agent API's "
        "under vpnaas.access.agent): method, path and query string (secrets "
        "masked), status, length, seconds, request id, project.",
    ),
    cfg.FloatOpt(
        "client_header_timeout",
        default=30.0,
        min=0.1,
        help="Seconds a client has to send the request headers; then the connection is closed.",
    ),
]
_DATABASE_OPTS = [
    cfg.StrOpt(
        "connection",
        default=DEFAULT_DATABASE,
        secret=True,
        help="SQLAlchemy URL: sqlite:///path, postgresql+psycopg://..., mysql+pymysql://...",
    ),
    cfg.IntOpt("max_pool_size", default=5, help="Connections kept open per worker."),
    cfg.IntOpt("max_overflow", default=10, help="Extra connections beyond the pool."),
    cfg.IntOpt("pool_timeout", default=30, help="Seconds to wait for a free connection."),
    cfg.IntOpt(
        "connection_recycle_time",
        default=3600,
        help="Seconds after which a connection is replaced.",
    ),
]
_VPNAAS_OPTS = [
    cfg.StrOpt(
        "driver",
        default="null",
        choices=["null", "strongswan"],
        help="Data plane: null reports every service and connection DOWN; strongswan "
        "leaves them pending until a vpnaas agent reports what charon really has.",
    ),
    cfg.BoolOpt(
        "allow_aggressive_mode",
        default=False,
        help="With the strongswan driver, accept IKE policies in aggressive mode "
        "(the identity travels unprotected and the psk can be attacked offline).",
    ),
    cfg.BoolOpt(
        "null_driver_settles",
        default=True,
        help="The null driver moves new and updated services and connections to DOWN; "
        "false leaves them pending, as a reference server without agents does.",
    ),
    cfg.ListOpt(
        "secret_key",
        default=[],
        secret=True,
        help="Fernet keys (comma-separated, `vpnaas db generate-key` makes one) that "
        "encrypt secret attributes (the psk) at rest: the first encrypts, every one "
        "decrypts. Unset: secrets are stored in clear and the server warns at start.",
    ),
    cfg.StrOpt(
        "secret_key_file",
        help="A file with the keys of secret_key, one a line (instead of secret_key).",
    ),
    cfg.StrOpt(
        "peer_hosts_file",
        help="Resolve peer_address host names only from this hosts(5) file "
        "instead of the system resolver.",
    ),
]
_CONSOLE_OPTS = [
    cfg.BoolOpt("enabled", default=True, help="Serve the web console under /ui/."),
    cfg.BoolOpt(
        "secure_cookies",
        default=False,
        help="Mark the session cookie Secure (set it when the console is served over HTTPS).",
    ),
    cfg.IntOpt(
        "session_lifetime",
        default=28800,
        min=60,
        help="Seconds a noauth console login lasts (a keystone login lasts as long as its token).",
    ),
    cfg.StrOpt(
        "auth_url",
        help="Keystone URL the console logs users in with (keystone mode); default: "
        "[keystone_authtoken] www_authenticate_uri.",
    ),
    cfg.StrOpt("user_domain_id", default="default", help="Domain of console users."),
    cfg.StrOpt("project_domain_id", default="default", help="Domain of their projects."),
]
_AGENT_API_OPTS = [
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address the agent API listens on."),
    cfg.PortOpt("bind_port", default=9697, help="Port of the agent API."),
    cfg.IntOpt(
        "threads",
        default=128,
        min=2,
        help="Request threads of the agent API; each waiting agent holds one.",
    ),
    cfg.IntOpt(
        "agent_down_time",
        default=30,
        min=2,
        help="Seconds without a report after which an agent is dead and its "
        "connections DOWN (three report intervals).",
    ),
]
_METRICS_OPTS = [
    cfg.BoolOpt(
        "enabled",
        default=False,
        help="Serve Prometheus metrics on a listener of their own (vpnaas serve).",
    ),
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address of the metrics listener."),
    cfg.PortOpt("bind_port", default=9698, help="Port of the metrics listener."),
]
_TOPOLOGY_OPTS = [
    cfg.BoolOpt(
        "seed_external_network",
        default=True,
        help="Create an external network at start-up if it does not exist.",
    ),
    cfg.StrOpt(
        "external_network_id", help="Id of the seeded external network (default: generated once)."
    ),
    cfg.StrOpt("external_network_name", default="public"),
    cfg.StrOpt(
        "external_subnet_cidr",
        default="172.24.4.0/24",
        help="IPv4 subnet of the seeded external network.",
    ),
    cfg.StrOpt(
        "external_subnet_ipv6_cidr", help="Optional IPv6 subnet of the seeded external network."
    ),
    cfg.StrOpt(
        "admin_project_id", default="admin", help="Project that owns the seeded external network."
    ),
    cfg.IntOpt("network_max_mtu", default=1500, help="Largest network MTU."),
]


@dataclass(frozen=True)
class PoolOptions:
    """Connection-pool settings (``[database]`` options of the config file)."""

    max_pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: int = 30
    connection_recycle_time: int = 3600
    connect_timeout: int = 10
    sqlite_busy_timeout_ms: int = 30000


@dataclass(frozen=True)
class ConsoleOptions:
    """The web console (``[console]`` options)."""

    enabled: bool = True
    secure_cookies: bool = False
    session_lifetime: int = 28800
    auth_url: str | None = None
    user_domain_id: str = "default"
    project_domain_id: str = "default"


@dataclass(frozen=True)
class TopologySeed:
    """The external network created at start-up."""

    enabled: bool = True
    network_id: str | None = None
    name: str = "public"
    cidr: str = "172.24.4.0/24"
    ipv6_cidr: str | None = None
    project_id: str = "admin"


@dataclass(frozen=True)
class AgentAPIOptions:
    """The agent API's listener and liveness (``[agent_api]``)."""

    host: str = "127.0.0.1"
    port: int = 9697
    threads: int = 128
    agent_down_time: int = 30


@dataclass(frozen=True)
class MetricsOptions:
    """The Prometheus listener (``[metrics]``)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9698


@dataclass(frozen=True)
class Settings:
    """Everything vpnaas itself reads from configuration."""

    database_url: str = DEFAULT_DATABASE
    pool: PoolOptions = field(default_factory=PoolOptions)
    auth_strategy: str = "noauth"
    noauth_project_id: str | None = "admin"
    host: str = "127.0.0.1"
    port: int = 9696
    workers: int = 1
    threads: int | None = None
    pagination_max_limit: int = -1
    filter_validation: bool = True
    network_link_prefix: str | None = None
    legacy_crypto: bool = False
    max_body_size: int = 114688
    response_cache: bool = True
    max_url_length: int = 16384
    max_header_line: int = 16384
    body_timeout: float = 30.0
    header_timeout: float = 30.0
    access_log: bool = True
    metrics: MetricsOptions = field(default_factory=MetricsOptions)
    driver: str = "null"
    null_driver_settles: bool = True
    allow_aggressive_mode: bool = False
    agent_api: AgentAPIOptions = field(default_factory=AgentAPIOptions)
    peer_hosts_file: str | None = None
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    secret_key_file: str | None = None
    network_max_mtu: int = 1500
    seed: TopologySeed = field(default_factory=TopologySeed)
    console: ConsoleOptions = field(default_factory=ConsoleOptions)
    conf: Any = field(default=None, compare=False, repr=False)

    @property
    def request_threads(self) -> int:
        """Threads per worker: ``threads``, or the default for the database."""
        if self.threads is not None:
            return self.threads
        return 1 if self.database_url.startswith("sqlite") else self.pool.max_pool_size

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the non-``None`` values of ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def new_conf() -> cfg.ConfigOpts:
    """A fresh ``ConfigOpts`` with vpnaas' options registered."""
    conf = cfg.ConfigOpts()
    conf.register_opts(_DEFAULT_OPTS)
    conf.register_opts(_DATABASE_OPTS, group="database")
    conf.register_opts(_VPNAAS_OPTS, group="vpnaas")
    conf.register_opts(_TOPOLOGY_OPTS, group="topology")
    conf.register_opts(_CONSOLE_OPTS, group="console")
    conf.register_opts(_AGENT_API_OPTS, group="agent_api")
    conf.register_opts(_METRICS_OPTS, group="metrics")
    return conf


def load(config_files: Sequence[str] = (), **overrides: Any) -> Settings:
    """Read ``config_files`` into :class:`Settings`; ``overrides`` win."""
    conf = new_conf()
    conf([], project="vpnaas", default_config_files=list(config_files), default_config_dirs=[])
    db = conf.database
    topo = conf.topology
    settings = Settings(
        database_url=db.connection,
        pool=PoolOptions(
            max_pool_size=db.max_pool_size,
            max_overflow=db.max_overflow,
            pool_timeout=db.pool_timeout,
            connection_recycle_time=db.connection_recycle_time,
        ),
        auth_strategy=conf.auth_strategy,
        noauth_project_id=conf.noauth_project_id or None,
        host=conf.bind_host,
        port=conf.bind_port,
        workers=conf.api_workers,
        threads=conf.api_threads,
        pagination_max_limit=conf.pagination_max_limit,
        filter_validation=conf.filter_validation,
        network_link_prefix=conf.network_link_prefix,
        legacy_crypto=conf.legacy_crypto_algorithms,
        max_body_size=conf.max_request_body_size,
        response_cache=conf.response_cache,
        max_url_length=conf.max_url_length,
        max_header_line=conf.max_header_line,
        body_timeout=conf.client_body_timeout,
        header_timeout=conf.client_header_timeout,
        access_log=conf.access_log,
        metrics=MetricsOptions(
            enabled=conf.metrics.enabled,
            host=conf.metrics.bind_host,
            port=conf.metrics.bind_port,
        ),
        driver=conf.vpnaas.driver,
        null_driver_settles=conf.vpnaas.null_driver_settles,
        allow_aggressive_mode=conf.vpnaas.allow_aggressive_mode,
        agent_api=AgentAPIOptions(
            host=conf.agent_api.bind_host,
            port=conf.agent_api.bind_port,
            threads=conf.agent_api.threads,
            agent_down_time=conf.agent_api.agent_down_time,
        ),
        peer_hosts_file=conf.vpnaas.peer_hosts_file,
        secret_keys=tuple(conf.vpnaas.secret_key),
        secret_key_file=conf.vpnaas.secret_key_file,
        network_max_mtu=topo.network_max_mtu,
        seed=TopologySeed(
            enabled=topo.seed_external_network,
            network_id=topo.external_network_id,
            name=topo.external_network_name,
            cidr=topo.external_subnet_cidr,
            ipv6_cidr=topo.external_subnet_ipv6_cidr,
            project_id=topo.admin_project_id,
        ),
        console=ConsoleOptions(
            enabled=conf.console.enabled,
            secure_cookies=conf.console.secure_cookies,
            session_lifetime=conf.console.session_lifetime,
            auth_url=conf.console.auth_url,
            user_domain_id=conf.console.user_domain_id,
            project_domain_id=conf.console.project_domain_id,
        ),
        conf=conf,
    )
    return settings.with_overrides(**overrides)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """For oslo-config-generator: every option vpnaas registers."""
    return [
        (None, list(_DEFAULT_OPTS)),
        ("database", list(_DATABASE_OPTS)),
        ("vpnaas", list(_VPNAAS_OPTS)),
        ("topology", list(_TOPOLOGY_OPTS)),
        ("console", list(_CONSOLE_OPTS)),
        ("agent_api", list(_AGENT_API_OPTS)),
        ("metrics", list(_METRICS_OPTS)),
        ("agent", list(_AGENT_OPTS)),
    ]


# --- vpnaas agent --------------------------------------------------------------

_AGENT_OPTS = [
    cfg.ListOpt(
        "server_url",
        default=["http://127.0.0.1:9697/"],
        help="Agent API URLs of the vpnaas servers, tried in turn (--server-url, repeatable).",
    ),
    cfg.StrOpt("host", help="This gateway's name (default: the machine's host name)."),
    cfg.StrOpt(
        "vici_socket",
        default="unix:///var/run/charon.vici",
        help="charon's VICI socket, unix:///PATH.",
    ),
    cfg.ListOpt("router", default=[], help="Ids of the routers this gateway serves."),
    cfg.StrOpt(
        "netns",
        help="Network namespace of the gateway (where charon runs and where the "
        "agent keeps its routes); none: the agent's own.",
    ),
    cfg.IntOpt("report_interval", default=10, min=1, help="Seconds between reports."),
    cfg.IntOpt(
        "resync_interval",
        default=30,
        min=1,
        help="Seconds between full reconciliations when nothing changed.",
    ),
    cfg.StrOpt(
        "strongswan_conf",
        help="charon's strongswan.conf, read for its retransmission settings (the "
        "effective IKEv2 DPD timeout); default: $STRONGSWAN_CONF or /etc/strongswan.conf.",
    ),
]


@dataclass(frozen=True)
class AgentSettings:
    """What ``vpnaas agent`` reads from configuration."""

    server_urls: tuple[str, ...] = ("http://127.0.0.1:9697/",)
    host: str = ""
    vici_socket: str = "unix:///var/run/charon.vici"
    routers: tuple[str, ...] = ()
    netns: str | None = None
    report_interval: int = 10
    resync_interval: int = 30
    strongswan_conf: str | None = None
    auth_strategy: str = "noauth"
    conf: Any = field(default=None, compare=False, repr=False)


def load_agent(config_files: Sequence[str] = (), **overrides: Any) -> AgentSettings:
    """Read the ``[agent]`` section (and keystoneauth's options in it, for
    the service user) into :class:`AgentSettings`; ``overrides`` win."""
    from keystoneauth1 import loading as ks_loading

    conf = cfg.ConfigOpts()
    conf.register_opts(_DEFAULT_OPTS)
    conf.register_opts(_AGENT_OPTS, group="agent")
    ks_loading.register_auth_conf_options(conf, "agent")
    ks_loading.register_session_conf_options(conf, "agent")
    conf([], project="vpnaas", default_config_files=list(config_files), default_config_dirs=[])
    agent = conf.agent
    settings = AgentSettings(
        server_urls=tuple(agent.server_url),
        host=agent.host or "",
        vici_socket=agent.vici_socket,
        routers=tuple(agent.router),
        netns=agent.netns,
        report_interval=agent.report_interval,
        resync_interval=agent.resync_interval,
        strongswan_conf=agent.strongswan_conf,
        auth_strategy=conf.auth_strategy,
        conf=conf,
    )
    return replace(settings, **{k: v for k, v in overrides.items() if v})
