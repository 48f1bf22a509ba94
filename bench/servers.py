"""Start and stop the server processes the benchmark drives (loopback only).

Every process is started here in a session of its own and stopped by its
own pid (SIGTERM to granian's main process, which stops its workers; SIGKILL
to that session only if it does not exit in time). Nothing else is signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.net import LOOPBACK, free_port

__all__ = ["HOST", "Process", "children", "free_port", "memory_of", "vpnaas_command"]

HOST = LOOPBACK
ROOT = Path(__file__).resolve().parent.parent


def vpnaas_command(db: Path | str, port: int, workers: int, *extra: str) -> list[str]:
    """``vpnaas serve`` on ``db`` (a SQLite file, or a database URL) with the
    default (noauth) strategy, and ``extra`` arguments."""
    exe = Path(sys.executable).with_name("vpnaas")
    return [
        str(exe),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--database-url",
        db if isinstance(db, str) else f"sqlite:///{db}",
        "--auth-strategy",
        "noauth",
        *extra,
    ]


def ceiling_command(
    kind: str,
    port: int,
    workers: int,
    data: Path | None = None,
    *,
    module: str = "bench.ceilings",
    options: tuple[str, ...] = (),
) -> list[str]:
    """``python -m module kind`` on ``port``, with its data directory and ``options``."""
    return [
        sys.executable,
        "-m",
        module,
        kind,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        *(("--data", str(data)) if data is not None else ()),
        *options,
    ]


@dataclass
class Process:
    """One server: its command, port, log file and (once started) its Popen."""

    name: str
    command: list[str]
    port: int
    log: Path
    workers: int = 1
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(ROOT)) if p)
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, path: str = "/", timeout: float = 60.0) -> None:
        """Until ``path`` answers and every worker process is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as resp:
                    resp.read()
                if len(self.worker_pids()) >= self.workers:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready in {timeout}s: see {self.log}")

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def worker_pids(self) -> list[int]:
        """The worker processes granian spawned (children of the main one)."""
        return children(self.pid)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # the session we created for it: its workers only
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=15)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may contain spaces and parentheses: split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found = [pid]
    for child in children(pid):
        found.extend(descendants(child))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of ``pids`` so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def memory_of(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` (peak) of ``pid`` in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out
