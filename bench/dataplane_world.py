"""The world of ``bench.dataplane``: two gateways with one LAN address per
tunnel, a server, two agents, and the topology for N tunnels, built through
the API; plus the polls the figures are read from.

Tunnel ``i`` joins ``10.11.x.y/28`` behind gateway A with ``10.12.x.y/28``
behind B (``x.y`` = the i-th /28); each gateway's LAN device holds the
first address of each of its /28s before charon starts (kernel-libipsec
needs a local address inside every local traffic selector, and charon
misses addresses added in bulk while it runs: docs/agent.md). The charons
run with the DoS thresholds raised, as a gateway serving hundreds of
tunnels to one peer needs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vpnaas.agent.charon import Charon
from vpnaas.agent.client import NOAUTH_HEADERS
from vpnaas.lab.agent_process import AgentProcess
from vpnaas.lab.gateways import Gateways, gateways
from vpnaas.lab.server import IDENTITY, Api, LabServer, lab_server

__all__ = ["World", "world"]

CONNS = "v2.0/vpn/ipsec-site-connections"
DOS = {"cookie_threshold": "100000", "cookie_threshold_ip": "100000", "block_threshold": "100000"}
DPD = {"action": "hold", "interval": 2, "timeout": 6}
PSK = "bench-psk-0123456789"
THREADS = 4
STATUS_LINE = re.compile(r" INFO vpnaas\.agent\.service status: ")

T = TypeVar("T")
R = TypeVar("R")


def lans(net: int, n: int) -> list[ipaddress.IPv4Network]:
    return list(ipaddress.IPv4Network(f"10.{net}.0.0/16").subnets(new_prefix=28))[:n]


def parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(fn, items))


@dataclass
class World:
    gw: Gateways
    server: LabServer
    state: Path
    api: Api = field(init=False)
    agent_api: Api = field(init=False)
    routers: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    policies: tuple[str, str] = ("", "")
    agents: dict[str, AgentProcess] = field(default_factory=dict)
    conns: list[str] = field(default_factory=list)
    conns_a: list[str] = field(default_factory=list)
    setup_s: float = 0.0

    def __post_init__(self) -> None:
        self.api = Api(self.server.url)
        self.agent_api = Api(self.server.agent_url, dict(NOAUTH_HEADERS))

    # --- building ----------------------------------------------------------------

    def build(self, n: int) -> None:
        api = self.api
        wan = api.create("networks", "network", {"name": "wan", "router:external": True})["id"]
        api.create("subnets", "subnet", {"network_id": wan, "cidr": "192.0.2.0/24",
                                         "ip_version": 4, "gateway_ip": "192.0.2.254"})  # fmt: skip
        for side, site, net, peer_net in (("a", self.gw.a, 11, 12), ("b", self.gw.b, 12, 11)):
            lan = api.create("networks", "network", {"name": f"lan-{side}"})["id"]
            gateway = {"network_id": wan, "external_fixed_ips": [{"ip_address": site.wan}]}
            router = api.create("routers", "router", {"external_gateway_info": gateway})["id"]
            subnets = parallel(
                lambda cidr, lan=lan: api.create(  # type: ignore[misc]
                    "subnets", "subnet", {"network_id": lan, "cidr": str(cidr), "ip_version": 4}
                )["id"],
                lans(net, n),
            )
            parallel(
                lambda s, r=router: api.call(  # type: ignore[misc]
                    "PUT", f"v2.0/routers/{r}/add_router_interface", {"subnet_id": s}
                ),
                subnets,
            )
            self.routers[side] = router
            self.services[side] = api.create("vpn/vpnservices", "vpnservice",
                                             {"router_id": router})["id"]  # fmt: skip
            local = parallel(lambda s: self._group("subnet", s), subnets)
            peer = parallel(lambda c: self._group("cidr", str(c)), lans(peer_net, n))
            self.groups[side] = list(zip(local, peer, strict=True))
        ike = api.create("vpn/ikepolicies", "ikepolicy", {"name": "bench", "ike_version": "v2"})[
            "id"
        ]
        esp = api.create("vpn/ipsecpolicies", "ipsecpolicy", {"name": "bench"})["id"]
        self.policies = (ike, esp)

    def _group(self, kind: str, value: str) -> str:
        body = {"type": kind, "endpoints": [value]}
        return str(self.api.create("vpn/endpoint-groups", "endpoint_group", body)["id"])

    def start_agents(self) -> None:
        """Start both agents and wait until each has reported once (its
        imports and first desired state are not part of any figure)."""
        start = time.monotonic()
        for side, site in (("a", self.gw.a), ("b", self.gw.b)):
            agent = AgentProcess(site, self.routers[side], self.server.agent_url)
            agent.start()
            self.agents[side] = agent
        for side in self.agents:
            self.first_status_line(side, 0, start)

    def resume_agents(self) -> None:
        """Start the stopped agents again and wait until each has reported."""
        offsets = {side: agent.log_path.stat().st_size for side, agent in self.agents.items()}
        start = time.monotonic()
        for agent in self.agents.values():
            agent.start()
        for side in self.agents:
            self.first_status_line(side, offsets[side], start)

    # --- connections -------------------------------------------------------------

    def create_connections(self, n: int, order: str = "sides") -> list[str]:
        """``n`` tunnels: a connection on each gateway; in ``order`` "sides"
        all of A's first, then B's; in "tunnels" both ends of one tunnel,
        then of the next."""
        if order == "tunnels":
            jobs = [(side, i) for i in range(n) for side in ("a", "b")]
        else:
            jobs = [(side, i) for side in ("a", "b") for i in range(n)]
        made = dict(zip(jobs, parallel(lambda job: self._connection(*job), jobs), strict=True))
        self.conns_a = [made["a", i] for i in range(n)]
        self.conns = [*self.conns_a, *(made["b", i] for i in range(n))]
        return self.conns

    def _connection(self, side: str, i: int) -> str:
        peer = self.gw.b if side == "a" else self.gw.a
        local, remote = self.groups[side][i]
        body = {
            "name": f"t{i}-{side}",
            "vpnservice_id": self.services[side],
            "ikepolicy_id": self.policies[0],
            "ipsecpolicy_id": self.policies[1],
            "peer_address": peer.wan,
            "peer_id": peer.wan,
            "local_ep_group_id": local,
            "peer_ep_group_id": remote,
            "psk": PSK,
            "dpd": DPD,
        }
        return str(
            self.api.create("vpn/ipsec-site-connections", "ipsec_site_connection", body)["id"]
        )

    def delete_connections(self) -> None:
        parallel(lambda c: self.api.call("DELETE", f"{CONNS}/{c}", expect=204), self.conns)
        self.conns, self.conns_a = [], []
        deadline = time.monotonic() + 120
        while self.installed() != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.5)
        # and both agents done with the deletes: a peer that still ends its
        # children one by one would take the next figure's CPU
        while self.loaded() != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.1)

    # --- reading ------------------------------------------------------------------

    def statuses(self) -> dict[str, str]:
        rows = self.api.call("GET", f"{CONNS}?fields=id&fields=status")["ipsec_site_connections"]
        return {row["id"]: row["status"] for row in rows}

    def wait_status(self, ids: list[str], status: str, timeout: float) -> float:
        """Seconds until a list shows all of ``ids`` with ``status``."""
        start = time.monotonic()
        return self.first_and_all(ids, status, timeout, interval=0.1)[1] - start

    def first_and_all(
        self, ids: list[str], status: str, timeout: float, interval: float = 0.02
    ) -> tuple[float, float]:
        """Monotonic times when the first and when all of ``ids`` were
        seen with ``status`` in a list."""
        start = time.monotonic()
        first, hits = None, 0
        while time.monotonic() - start < timeout:
            now = self.statuses()
            hits = sum(1 for i in ids if now.get(i) == status)
            seen = time.monotonic()
            if hits and first is None:
                first = seen
            if hits == len(ids):
                return first or seen, seen
            time.sleep(interval)
        raise TimeoutError(f"{hits}/{len(ids)} {status} after {timeout}s")

    def watch(self, seen: set[str], stop: threading.Event) -> None:
        while not stop.is_set():
            now = self.statuses()
            seen.update(now[c] for c in self.conns if c in now)
            stop.wait(0.2)

    def first_status_line(self, side: str, offset: int, start: float) -> float:
        """Seconds from ``start`` until the agent logged its first full status."""
        path = self.agents[side].log_path
        while time.monotonic() - start < 120:
            with path.open("rb") as f:
                f.seek(offset)
                if STATUS_LINE.search(f.read().decode("utf-8", "replace")):
                    return round(time.monotonic() - start, 2)
            time.sleep(0.02)
        raise TimeoutError(f"agent {side} logged no status")

    def installed(self) -> tuple[int, int]:
        counts = []
        for site in (self.gw.a, self.gw.b):
            with Charon(site.vici) as charon:
                counts.append(sum(
                    1 for sa in charon.list_sas() for entry in sa.values()
                    for c in (entry.get("child-sas") or {}).values()
                    if c.get("state") == "INSTALLED"
                ))  # fmt: skip
        return counts[0], counts[1]

    def loaded(self) -> tuple[int, int]:
        """The connections charon has loaded on each gateway (the agents'
        groups: none once an agent applied an empty desired state)."""
        counts = []
        for site in (self.gw.a, self.gw.b):
            with Charon(site.vici) as charon:
                counts.append(len(charon.conns()))
        return counts[0], counts[1]

    def wait_installed(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while min(self.installed()) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.installed()} of {n} children INSTALLED")
            time.sleep(0.05)

    def desired_state(self, netns: str, router: str) -> dict[str, Any]:
        doc: dict[str, Any] = self.agent_api.call(
            "GET", f"agent/v1/state?host=gw-{netns}&router={router}"
        )
        return doc

    def agent_call(self, path: str, body: Any) -> Any:
        return self.agent_api.call("POST", path, body)

    def restart_charons(self) -> None:
        for site in (self.gw.a, self.gw.b):
            site.kill_charon(signal.SIGTERM)
            site.start_charon()

    def pids(self) -> dict[str, int]:
        out = {}
        for side, agent in self.agents.items():
            if agent.proc is not None:
                out[f"agent {side}"] = agent.proc.pid
        for side, site in (("a", self.gw.a), ("b", self.gw.b)):
            if site.pid is not None:
                out[f"charon {side}"] = site.pid
        return out

    def wrk_headers(self) -> tuple[tuple[str, str], ...]:
        return tuple(IDENTITY.items())


@contextlib.contextmanager
def world(n: int) -> Iterator[World]:
    """Gateways, server, topology and agents for ``n`` tunnels; all torn
    down after."""
    pid = os.getpid()
    prefix = os.environ.get("VPNAAS_LAB_PREFIX")  # on a shared machine: each their own
    state = Path(f"/var/lib/{prefix}/bench-{pid}" if prefix else f"/var/lib/vpnaas-bench-{pid}")
    names = (f"{prefix}e", f"{prefix}f") if prefix else (f"vpb{pid}a", f"vpb{pid}b")
    extra = tuple([f"{net[1]}/28" for net in lans(side, n)] for side in (11, 12))
    with (
        gateways(state, names, extra_lan=extra, charon=DOS) as gw,  # type: ignore[arg-type]
        lab_server(state / "server") as server,
    ):
        w = World(gw, server, state)
        try:
            start = time.monotonic()
            w.build(n)
            w.setup_s = time.monotonic() - start
            w.start_agents()
            yield w
        finally:
            for agent in w.agents.values():
                agent.stop()
            _keep_logs(state)


def _keep_logs(state: Path) -> None:
    """Copy the server's, agents' and charons' logs to bench/results/ before
    the state directory goes."""
    dest = Path(__file__).resolve().parent / "results" / f"dataplane-logs-{state.name}"
    for path in state.rglob("*.log"):
        target = dest / path.relative_to(state)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
