"""What ``vpnaas agent`` reads from configuration: its ``[agent]`` section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from oslo_config import cfg

from vpnaas.settings.options import DEFAULT_OPTS

__all__ = ["AGENT_OPTS", "AgentSettings", "load_agent"]

AGENT_OPTS = [
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
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(AGENT_OPTS, group="agent")
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
