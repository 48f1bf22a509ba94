"""``vpnaas agent``: flags and ``[agent]`` options → a running :class:`Agent`."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
from types import FrameType

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

from vpnaas.agent.client import ServerClient
from vpnaas.agent.service import Agent, AgentOptions
from vpnaas.settings import agent as agent_settings

__all__ = ["add_arguments", "run"]

LOG = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vpnaas agent`` flags (each overrides its ``[agent]`` option)."""
    parser.add_argument("--config-file", action="append", default=[], metavar="PATH")
    parser.add_argument(
        "--server-url",
        action="append",
        default=[],
        metavar="URL",
        help="agent API URL (repeatable)",
    )
    parser.add_argument("--host", help="this gateway's name")
    parser.add_argument("--vici-socket", metavar="unix:///PATH", help="charon's VICI socket")
    parser.add_argument(
        "--router",
        action="append",
        default=[],
        metavar="ROUTER_ID",
        help="a router this gateway serves",
    )
    parser.add_argument("--netns", metavar="NAME", help="the gateway's network namespace")
    parser.add_argument("--strongswan-conf", metavar="PATH", help="charon's strongswan.conf")


def _session(settings: agent_settings.AgentSettings) -> ks_session.Session:
    """A keystoneauth session: the service user's in keystone mode."""
    if settings.auth_strategy != "keystone":
        return ks_session.Session()
    auth = ks_loading.load_auth_from_conf_options(settings.conf, "agent")
    return ks_loading.load_session_from_conf_options(settings.conf, "agent", auth=auth)


def run(args: argparse.Namespace) -> int:
    """Run the agent until SIGTERM or SIGINT."""
    settings = agent_settings.load_agent(
        args.config_file,
        server_urls=tuple(args.server_url),
        host=args.host,
        vici_socket=args.vici_socket,
        routers=tuple(args.router),
        netns=args.netns,
        strongswan_conf=args.strongswan_conf,
    )
    options = AgentOptions(
        host=settings.host or socket.gethostname(),
        routers=settings.routers,
        vici_socket=settings.vici_socket,
        netns=settings.netns,
        report_interval=float(settings.report_interval),
        resync_interval=float(settings.resync_interval),
        strongswan_conf=settings.strongswan_conf,
    )
    client = ServerClient(
        settings.server_urls, _session(settings), noauth=settings.auth_strategy != "keystone"
    )
    agent = Agent(options, client)

    def _stop(signum: int, frame: FrameType | None) -> None:
        LOG.info("signal %s: stopping (charon and its SAs stay as they are)", signum)
        agent.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    LOG.info(
        "agent %s serving routers %s through %s (netns %s), servers %s",
        options.host,
        ", ".join(options.routers) or "none",
        options.vici_socket,
        options.netns or "none",
        ", ".join(settings.server_urls),
    )
    agent.run()
    return 0
