"""The API's list and create rates with 50 agents long-polling, and with none.

``.venv/bin/python -m bench.agents`` starts ``vpnaas serve --driver
strongswan`` (one worker, one request thread, SQLite) with its agent API on
a listener of its own, seeds 50 routers with a VPN service and two
connections each through the API, then measures with wrk, for each mode:

* ``list``: ``GET /v2.0/vpn/ipsec-site-connections`` (100 rows, a member);
* ``create``: ``POST /v2.0/vpn/ikepolicies``.

In the ``agents`` mode 50 agent threads of this process each serve one
router as ``vpnaas agent`` does: a long poll (``wait=5``) for a new
revision, a report of every connection ``ACTIVE`` for it, and a report every
10 seconds. The modes alternate (``--reps`` times each, medians printed).
Every create wakes the waiting agents (the IKE policies' write
counter moved), which rebuild their state and find it unchanged. Loopback
only; every process is stopped by its pid; the run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import load
from bench.servers import (
    HOST,
    Process,
    children,
    cpu_seconds,
    descendants,
    free_port,
    vpnaas_command,
)

PROJECT = (("X-Project-Id", "bench-agents"),)
ROUTERS = 50


def _call(
    url: str, method: str = "GET", body: Any = None, *, agent: bool = False, timeout: float = 90
) -> Any:
    """JSON in and out; a project member on the API, an admin (no project
    header in noauth mode) on the agent API."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({} if agent else dict(PROJECT))}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        raise RuntimeError(f"{method} {url}: {exc.code} {exc.read()[:300]!r}") from exc


def _create(api: str, path: str, member: str, body: dict[str, Any]) -> str:
    return str(_call(f"{api}/v2.0/{path}", "POST", {member: body})[member]["id"])


def seed(api: str, public: str) -> list[str]:
    """50 routers, each with a LAN, a service and two connections."""
    ike = _create(api, "vpn/ikepolicies", "ikepolicy", {"ike_version": "v2"})
    ipsec = _create(api, "vpn/ipsecpolicies", "ipsecpolicy", {})
    routers = []
    for i in range(ROUTERS):
        net = _create(api, "networks", "network", {"name": f"lan{i}"})
        subnet = _create(
            api,
            "subnets",
            "subnet",
            {"network_id": net, "cidr": f"10.{i}.0.0/24", "ip_version": 4},
        )
        router = _create(
            api, "routers", "router", {"external_gateway_info": {"network_id": public}}
        )
        _call(f"{api}/v2.0/routers/{router}/add_router_interface", "PUT", {"subnet_id": subnet})
        service = _create(
            api, "vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet}
        )
        for j in range(2):
            peer = f"198.18.{i}.{j + 1}"
            body = {
                "vpnservice_id": service,
                "ikepolicy_id": ike,
                "ipsecpolicy_id": ipsec,
                "peer_address": peer,
                "peer_id": peer,
                "peer_cidrs": [f"10.{100 + i}.{j}.0/24"],
                "psk": f"secret-{i}-{j}",
            }
            _create(api, "vpn/ipsec-site-connections", "ipsec_site_connection", body)
        routers.append(router)
    return routers


class Agent(threading.Thread):
    """One gateway's traffic: long polls and reports, until stopped."""

    def __init__(self, base: str, host: str, router: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.host, self.router, self.stop = base, host, router, stop
        self.polls = 0

    def report(self, state: dict[str, Any]) -> None:
        conns = [
            {"id": c["id"], "revision": c["revision"], "status": "ACTIVE"}
            for r in state["routers"]
            for s in r["services"]
            for c in s["connections"]
        ]
        body = {"host": self.host, "routers": [self.router], "connections": conns}
        _call(f"{self.base}/agent/v1/reports", "POST", body, agent=True)

    def run(self) -> None:
        state = _call(
            f"{self.base}/agent/v1/state?host={self.host}&router={self.router}", agent=True
        )
        self.report(state)
        last = time.monotonic()
        while not self.stop.is_set():
            query = f"host={self.host}&router={self.router}&known={state['revision']}&wait=5"
            fresh = _call(f"{self.base}/agent/v1/state?{query}", agent=True)
            self.polls += 1
            if fresh is not None:
                state = fresh
                self.report(state)
            if time.monotonic() - last >= 10:
                self.report(state)
                last = time.monotonic()


def agent_listener(server: Process) -> list[int]:
    """The agent API's processes: the child ``vpnaas serve`` spawned for
    it (a multiprocessing child) and its granian worker."""
    for child in children(server.pid):
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            return descendants(child)
    raise RuntimeError("no agent listener process found")


def measure(
    api: str, seconds: int, workdir: Path, listener: list[int]
) -> dict[str, dict[str, float]]:
    figures = {
        "list": load.Request(path="/v2.0/vpn/ipsec-site-connections", headers=PROJECT),
        "create": load.Request(
            method="POST", path="/v2.0/vpn/ikepolicies", body='{"ikepolicy": {}}', headers=PROJECT
        ),
    }
    found = {}
    for name, request in figures.items():
        load.run(api, request, connections=4, seconds=1, script_dir=workdir)  # warm-up
        cpu = cpu_seconds(listener)
        result = load.run(api, request, connections=4, seconds=seconds, script_dir=workdir)
        used = cpu_seconds(listener) - cpu
        found[name] = {**result.to_json(), "agent_api_cpu": round(used / result.seconds, 3)}
    return found


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def run_modes(
    api: str, agents_base: str, routers: list[str], opts: argparse.Namespace, listener: list[int]
) -> dict[str, Any]:
    """``none`` and ``agents`` alternately, ``--reps`` times each."""
    runs: dict[str, list[dict[str, Any]]] = {"none": [], "agents": []}
    workdir = Path(opts.workdir)
    for _ in range(opts.reps):
        runs["none"].append(measure(api, opts.seconds, workdir, listener))
        stop = threading.Event()
        agents = [Agent(agents_base, f"gw-{i}", r, stop) for i, r in enumerate(routers)]
        for agent in agents:
            agent.start()
        time.sleep(2)
        try:
            runs["agents"].append(measure(api, opts.seconds, workdir, listener))
        finally:
            stop.set()
            for agent in agents:
                agent.join(30)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.agents", description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="seconds per figure (default 5)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each mode (default 3)")
    opts = parser.parse_args()
    opts.workdir = tempfile.mkdtemp(prefix="vpnaas-bench-agents-")
    workdir = Path(opts.workdir)
    agent_port = free_port()
    conf = workdir / "vpnaas.conf"
    conf.write_text(f"[agent_api]\nbind_port = {agent_port}\n", encoding="utf-8")
    port = free_port()
    cmd = [*vpnaas_command(workdir / "db.sqlite", port, 1), "--driver", "strongswan"]
    server = Process("vpnaas", [*cmd, "--config-file", str(conf)], port, workdir / "server.log")
    try:
        server.start()
        server.wait_ready()
        api, agents_base = server.base, f"http://{HOST}:{agent_port}"
        public = _call(f"{api}/v2.0/networks?router:external=true")["networks"][0]["id"]
        runs = run_modes(api, agents_base, seed(api, public), opts, agent_listener(server))
    finally:
        server.stop()
    print(json.dumps(runs, indent=2))
    for name in ("list", "create"):
        none = _median([r[name]["rps"] for r in runs["none"]])
        busy = _median([r[name]["rps"] for r in runs["agents"]])
        cpu = _median([r[name]["agent_api_cpu"] for r in runs["agents"]])
        print(
            f"{name:7} none {none:8.1f}/s   50 agents {busy:8.1f}/s   ratio {busy / none:.2f}"
            f"   agent API {cpu:.2f} CPU-s/s   (medians of {opts.reps})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
