"""An agent that never reaches charon or a server: its callbacks and
reports are driven by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpnaas.agent.service import Agent, AgentOptions


@pytest.fixture
def offline_agent(tmp_path: Path) -> Agent:
    conf = tmp_path / "strongswan.conf"
    conf.write_text("charon {\n}\n")
    options = AgentOptions(
        host="gw", routers=("r1",), vici_socket="unix:///nowhere.vici", strongswan_conf=str(conf)
    )
    return Agent(options, client=None)  # type: ignore[arg-type]
