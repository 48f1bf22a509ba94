"""Configuration: oslo.config options, read once into a frozen :class:`Settings`.

Operators write an INI file the OpenStack way (``[DEFAULT]``, ``[database]``,
``[oslo_policy]``, ``[keystone_authtoken]``, ``[vpnaas]``, ``[topology]``);
command-line flags override it. Nothing reads the ``ConfigOpts`` after
:func:`load` except the libraries that need it themselves (oslo.policy,
keystonemiddleware). The options themselves are in
:mod:`vpnaas.settings.options`, the agent's in :mod:`vpnaas.settings.agent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from oslo_config import cfg

from vpnaas.settings.agent import AGENT_OPTS
from vpnaas.settings.options import (
    AGENT_API_OPTS,
    CONSOLE_OPTS,
    DATABASE_OPTS,
    DEFAULT_DATABASE,
    DEFAULT_OPTS,
    METRICS_OPTS,
    TOPOLOGY_OPTS,
    VPNAAS_OPTS,
)

__all__ = [
    "AgentAPIOptions",
    "ConsoleOptions",
    "MetricsOptions",
    "PoolOptions",
    "Settings",
    "TopologySeed",
    "load",
    "new_conf",
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
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(DATABASE_OPTS, group="database")
    conf.register_opts(VPNAAS_OPTS, group="vpnaas")
    conf.register_opts(TOPOLOGY_OPTS, group="topology")
    conf.register_opts(CONSOLE_OPTS, group="console")
    conf.register_opts(AGENT_API_OPTS, group="agent_api")
    conf.register_opts(METRICS_OPTS, group="metrics")
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
        (None, list(DEFAULT_OPTS)),
        ("database", list(DATABASE_OPTS)),
        ("vpnaas", list(VPNAAS_OPTS)),
        ("topology", list(TOPOLOGY_OPTS)),
        ("console", list(CONSOLE_OPTS)),
        ("agent_api", list(AGENT_API_OPTS)),
        ("metrics", list(METRICS_OPTS)),
        ("agent", list(AGENT_OPTS)),
    ]
