"""The README's quickstart, run as written with the real ``openstack`` CLI.

The commands are read from the README's "Quickstart with the openstack CLI"
block, so the document and the test cannot drift apart: the ``export`` line
sets the environment (its endpoint pointed at a fresh server), every other
line runs as it stands, without identity headers (the server's default
noauth project acts for them).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import OSC_NEWEST, REPO
from tests.support.server import ServerProcess, running_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not OSC_NEWEST.exists(), reason=f"no openstack CLI at {OSC_NEWEST}"),
]

README = REPO / "README.md"
README_ENDPOINT = "http://127.0.0.1:9696"


def quickstart() -> list[str]:
    """The command lines of the README's quickstart block."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart with the openstack CLI", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no command block in the README's quickstart"
    return [line for line in block.group(1).splitlines() if line.strip()]


def run(line: str, env: dict[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line)
    assert args[0] == "openstack", line
    return subprocess.run(
        [str(OSC_NEWEST), *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        timeout=120,
        check=False,
    )


def test_readme_quickstart_builds_a_vpn_with_the_cli(tmp_path: Path) -> None:
    lines = quickstart()
    exports = [line for line in lines if line.startswith("export ")]
    assert len(exports) == 1, exports
    assert README_ENDPOINT in exports[0], exports
    with running_server(tmp_path / "server") as server:
        env = environment(exports[0], server, tmp_path)
        results = []
        for line in lines[1:]:
            res = run(line, env, tmp_path)
            assert res.returncode == 0, f"$ {line}\n{res.stdout}\n{res.stderr}"
            results.append(res.stdout)
        listed = server.request("GET", "v2.0/vpn/ipsec-site-connections").body
    assert [c["name"] for c in listed["ipsec_site_connections"]] == ["conn1"]
    assert listed["ipsec_site_connections"][0]["project_id"] == "admin"
    table = results[-1]
    assert re.search(r"\|\s*Name\s*\|\s*Status\s*\|", table), table
    assert re.search(r"\|\s*conn1\s*\|\s*DOWN\s*\|", table), table


def environment(export: str, server: ServerProcess, home: Path) -> dict[str, str]:
    """The process environment with the README's exports, aimed at ``server``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(HOME=str(home), PYTHONWARNINGS="ignore")
    for assignment in shlex.split(export)[1:]:
        name, _, value = assignment.partition("=")
        env[name] = value.replace(README_ENDPOINT, server.url.rstrip("/"))
    return env
