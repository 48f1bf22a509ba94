"""``vpnaas agent`` configuration: flags over ``[agent]``, and the session
each auth strategy gets."""

from __future__ import annotations

import argparse
from pathlib import Path

from keystoneauth1.identity import generic

from vpnaas.agent import main
from vpnaas.agent.client import NOAUTH_HEADERS, ServerClient
from vpnaas.settings import agent as settings


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    main.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_override_the_agent_section(tmp_path: Path) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text(
        "[agent]\nserver_url = http://one:9697/,http://two:9697/\nhost = from-file\n"
        "router = r1,r2\nnetns = ns-file\nreport_interval = 3\n"
    )
    loaded = settings.load_agent([str(conf)])
    assert loaded.server_urls == ("http://one:9697/", "http://two:9697/")
    assert (loaded.host, loaded.routers, loaded.netns, loaded.report_interval) == (
        "from-file",
        ("r1", "r2"),
        "ns-file",
        3,
    )
    args = _args(
        "--config-file", str(conf), "--server-url", "http://x/", "--router", "r9", "--host", "h"
    )
    over = settings.load_agent(
        args.config_file,
        server_urls=tuple(args.server_url),
        routers=tuple(args.router),
        host=args.host,
    )
    assert (over.server_urls, over.routers, over.host, over.netns) == (
        ("http://x/",),
        ("r9",),
        "h",
        "ns-file",
    )


def test_keystone_mode_loads_the_service_user_from_the_agent_section(tmp_path: Path) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text(
        "[DEFAULT]\nauth_strategy = keystone\n[agent]\nauth_type = password\n"
        "auth_url = http://keystone.test/v3\nusername = vpnaas-agent\npassword = secret\n"
        "user_domain_id = default\nproject_name = service\nproject_domain_id = default\n"
    )
    loaded = settings.load_agent([str(conf)])
    session = main._session(loaded)
    assert isinstance(session.auth, generic.Password)
    assert session.auth.auth_url == "http://keystone.test/v3"
    assert session.auth._username == "vpnaas-agent"


def test_noauth_mode_sends_admin_identity_headers() -> None:
    loaded = settings.load_agent([])
    assert loaded.auth_strategy == "noauth"
    assert main._session(loaded).auth is None
    assert "X-Project-Id" not in NOAUTH_HEADERS
    assert "admin" in NOAUTH_HEADERS["X-Roles"].split(",")
    client = ServerClient(["http://a:1", "http://b:2/"], main._session(loaded), noauth=True)
    assert client.urls == ["http://a:1/", "http://b:2/"]
