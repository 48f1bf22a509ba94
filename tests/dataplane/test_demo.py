"""``make demo``'s script, run as a user would: it ends 0 with both
connections ACTIVE and the ping through, and leaves nothing behind (no
process it started, no namespace, no state directory), also when it is
interrupted half way."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dataplane.conftest import DATAPLANE

pytestmark = DATAPLANE

ROOT = Path(__file__).resolve().parents[2]
TORN_DOWN = re.compile(r"^torn down: pids ([\d ]+); namespaces (\S+) (\S+); state (\S+)$", re.M)


def _start() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ROOT / "scripts" / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "VENV": sys.prefix},
    )


def _processes_naming(text: str) -> list[int]:
    """The pids of the processes whose command line holds ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found


def _assert_nothing_left(out: str, demo_pid: int) -> None:
    match = TORN_DOWN.search(out)
    assert match, out
    pids = [int(p) for p in match[1].split()]
    assert len(pids) >= 3, out  # two charons and the server, at least
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"pid {pid} still running\n{out}"
    assert (match[2], match[3]) == (f"vpd{demo_pid}a", f"vpd{demo_pid}b")
    namespaces = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert match[2] not in namespaces
    assert match[3] not in namespaces
    assert match[4] == f"/var/lib/vpnaas-demo-{demo_pid}"
    assert not Path(match[4]).exists()
    # nor one the teardown never heard of: each names the state directory
    assert not _processes_naming(match[4] + "/"), out
    assert "STILL RUNNING" not in out


def test_demo_brings_the_vpn_up_and_cleans_up() -> None:
    proc = _start()
    out, _ = proc.communicate(timeout=180)
    print(out)
    assert proc.returncode == 0, out
    assert re.search(r"^  both connections ACTIVE after [\d.]+s$", out, re.M), out
    assert f"{5}/{5} received (ok)" in out
    assert "demo: OK" in out
    assert "'<secret>'" in out  # the psk is never printed
    assert '"bytes_out": 0,' not in out.split("== tunnel telemetry")[1]  # counted the ping
    assert re.search(r'^    "status": "ACTIVE",$', out, re.M), out
    assert re.search(r"^connections \{$", out, re.M), out  # the swanctl export
    assert "does not answer" not in out
    _assert_nothing_left(out, proc.pid)


@pytest.mark.parametrize(
    ("sig", "at"),
    [
        pytest.param(signal.SIGINT, "== one agent per gateway", id="ctrl-c-starting-agents"),
        pytest.param(signal.SIGTERM, "== waiting for both", id="sigterm-waiting"),
    ],
)
def test_demo_interrupted_cleans_up(sig: int, at: str) -> None:
    """Ctrl-C or SIGTERM half way: the same teardown, exit status 130."""
    proc = _start()
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(at):
                proc.send_signal(sig)
                break
        out = "".join(lines) + proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out
    assert "demo: interrupted" in out
    _assert_nothing_left(out, proc.pid)
