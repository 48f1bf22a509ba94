"""Drive a server with wrk (Debian's ``wrk`` package) over loopback.

Every run is bounded in time (``-d``) and sends to 127.0.0.1 only. A Lua
script supplies the request (fixed, or one id after another from a file)
and reports wrk's summary as one JSON line, which :func:`run` parses.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PacedWriter", "Request", "WrkResult", "ensure_wrk", "run"]

_CONNECTIONS = "/v2.0/vpn/ipsec-site-connections"

_MARK = "BENCH_JSON "

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_str(text: str) -> str:
    return "[==[" + text + "]==]"


@dataclass(frozen=True)
class Request:
    """What every request of a run looks like.

    ``ids``: a file of object ids, one a line; the request path is then
    ``path + "/" + id``, taking the ids in order (cycling when they run out)
    starting at line ``first`` (1-based).
    """

    method: str = "GET"
    path: str = "/"
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    ids: Path | None = None
    first: int = 1

    def script(self) -> str:
        lines = [f"wrk.method = {_lua_str(self.method)}"]
        for name, value in self.headers:
            lines.append(f"wrk.headers[ {_lua_str(name)} ] = {_lua_str(value)}")
        if self.body is not None:
            lines.append(f"wrk.body = {_lua_str(self.body)}")
            lines.append('wrk.headers["Content-Type"] = "application/json"')
        if self.ids is None:
            lines.append(f"wrk.path = {_lua_str(self.path)}")
        else:
            lines += [
                "local ids = {}",
                f"for line in io.lines({_lua_str(str(self.ids))}) do ids[#ids + 1] = line end",
                f"local next_id = {self.first - 1}",
                f"local base = {_lua_str(self.path + '/')}",
                "request = function()",
                "  next_id = next_id % #ids + 1",
                "  return wrk.format(nil, base .. ids[next_id])",
                "end",
            ]
        return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, float]:
        return {
            "rps": round(self.rps, 2),
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "status_errors": self.status_errors,
            "socket_errors": self.socket_errors,
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
        }


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's package if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def run(
    base: str, request: Request, *, connections: int, seconds: int, script_dir: Path
) -> WrkResult:
    """One wrk run of ``seconds`` (whole: wrk counts in seconds) against ``base`` (``http://127.0.0.1:port``)."""
    if not base.startswith("http://127.0.0.1:"):
        raise ValueError("the benchmark sends to loopback only")
    script = script_dir / "wrk.lua"
    script.write_text(request.script())
    cmd = [
        ensure_wrk(),
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        base + request.path,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            doc = json.loads(line[len(_MARK) :])
            return WrkResult(
                requests=doc["requests"],
                seconds=doc["duration_us"] / 1e6,
                status_errors=doc["status_errors"],
                socket_errors=doc["socket_errors"],
                p50_ms=doc["p50_us"] / 1000,
                p99_ms=doc["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk gave no summary (exit {proc.returncode}): {proc.stderr[-2000:]}")


class PacedWriter:
    """PUTs a new ``description`` to the connections in ``ids`` in turn, at
    ``rate`` a second, through one keep-alive HTTP connection."""

    def __init__(
        self, host: str, port: int, ids: Path, rate: float, headers: Iterable[tuple[str, str]]
    ) -> None:
        self.host, self.port = host, port
        self.ids = ids.read_text().split()
        self.interval = 1.0 / rate
        self.headers = {**dict(headers), "Content-Type": "application/json"}
        self.done = 0
        self.errors = 0
        self.rate = 0.0

    def run(self, seconds: float) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        started = time.monotonic()
        try:
            while (now := time.monotonic()) - started < seconds:
                slot = started + self.done * self.interval
                if slot > now:
                    time.sleep(slot - now)
                obj = self.ids[self.done % len(self.ids)]
                body = json.dumps({"ipsec_site_connection": {"description": f"w{self.done}"}})
                conn.request("PUT", f"{_CONNECTIONS}/{obj}", body, self.headers)
                resp = conn.getresponse()
                resp.read()
                self.errors += resp.status != 200
                self.done += 1
        finally:
            conn.close()
            self.rate = self.done / (time.monotonic() - started)
