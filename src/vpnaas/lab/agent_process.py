"""A real ``vpnaas agent`` process for one gateway of
:mod:`vpnaas.lab.gateways`, stopped or killed by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from vpnaas.lab.gateways import Site

__all__ = ["AgentProcess"]


@dataclass
class AgentProcess:
    """``vpnaas agent`` for ``site``, serving ``router``, talking to the
    agent API at ``server_url`` (or at ``server_urls``, in turn); its output
    goes to ``<site dir>/agent.log``."""

    site: Site
    router: str
    server_url: str
    report_interval: int = 2
    server_urls: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.site.dir / "agent.log"

    def start(self) -> None:
        conf = self.site.dir / "agent.conf"
        conf.write_text(f"[agent]\nreport_interval = {self.report_interval}\n", encoding="utf-8")
        urls = self.server_urls or (self.server_url,)
        cmd = [
            sys.executable, "-m", "vpnaas", "agent",
            "--config-file", str(conf),
            *(arg for url in urls for arg in ("--server-url", url)),
            "--host", f"gw-{self.site.netns}",
            "--vici-socket", self.site.vici,
            "--router", self.router,
            "--netns", self.site.netns,
            "--strongswan-conf", str(self.site.conf),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """End the agent by its PID (SIGTERM lets it finish; SIGKILL does not)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""
