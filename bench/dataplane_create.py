"""One connection create against the size of its router: ``python -m bench.dataplane_create``.

In process, no HTTP: the real WSGI application with ``[vpnaas] driver =
strongswan`` over a SQLite file. One router, one VPN service, one IKE and
one IPsec policy; every connection goes to the same peer with the same
identities and psk (one IKE group, as ``bench.dataplane``'s tunnels) and
has peer CIDRs of its own, a ``/28`` (``--mode groups``: in a peer endpoint
group of its own with a shared local subnet group, as ``bench.dataplane``
builds them; ``--mode legacy``: in ``peer_cidrs`` of a service on a subnet).

At each size (default 0, 100, 400 and 1,000 connections on the router) it
times ``--samples`` creates, each deleted again untimed, and then the
desired state of the router as the agent API builds it for a long poll
(:meth:`vpnaas.api.agent.AgentAPI.states`). Times are the CPU time of the
calling thread (``time.thread_time``: on a shared machine wall time mostly
measures the wait for a core); it prints the median and the 10th
percentile in milliseconds of the whole create, of the strongswan driver's
checks in it (:meth:`DriverConnectionRules.check`) and of a state build.
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.seed import PROJECT, InProcessClient
from vpnaas.app import create_agent_app, create_app
from vpnaas.db import migrate
from vpnaas.drivers.strongswan.rules import DriverConnectionRules
from vpnaas.settings import load
from vpnaas.topology.seed import seed_external_network

__all__ = ["main"]

CONNS = "/v2.0/vpn/ipsec-site-connections"
PEER = "198.51.100.7"
#: peer CIDRs: the i-th /28 of 100.64.0.0/10
PEER_BASE = int(ipaddress.IPv4Address("100.64.0.0"))


def peer_cidr(i: int) -> str:
    return f"{ipaddress.IPv4Address(PEER_BASE + 16 * i)}/28"


class Router:
    """One router with a service, the policies and what a create needs."""

    def __init__(self, api: InProcessClient, external: str | None, mode: str) -> None:
        self.api = api
        self.mode = mode
        self.count = 0  # peer CIDRs handed out so far (never reused)
        net = api.ok("POST", "/v2.0/networks", {"network": {"name": "lan"}})["network"]["id"]
        subnet = api.ok(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"network_id": net, "cidr": "10.10.0.0/24", "ip_version": 4}},
        )["subnet"]["id"]
        gateway = {"network_id": external}
        router = api.ok("POST", "/v2.0/routers", {"router": {"external_gateway_info": gateway}})
        self.id = router["router"]["id"]
        api.ok("PUT", f"/v2.0/routers/{self.id}/add_router_interface", {"subnet_id": subnet})
        service = {"router_id": self.id, **({"subnet_id": subnet} if mode == "legacy" else {})}
        self.service = self._make("vpnservices", "vpnservice", service)
        self.ike = self._make("ikepolicies", "ikepolicy", {"ike_version": "v2"})
        self.esp = self._make("ipsecpolicies", "ipsecpolicy", {})
        self.local = self._group("subnet", subnet) if mode == "groups" else None

    def _make(self, path: str, member: str, body: dict[str, Any]) -> str:
        return str(self.api.ok("POST", f"/v2.0/vpn/{path}", {member: body})[member]["id"])

    def _group(self, kind: str, endpoint: str) -> str:
        return self._make(
            "endpoint-groups", "endpoint_group", {"type": kind, "endpoints": [endpoint]}
        )

    def body(self) -> dict[str, Any]:
        """A create body for a new connection (its own peer CIDR)."""
        cidr = peer_cidr(self.count)
        self.count += 1
        conn: dict[str, Any] = {
            "vpnservice_id": self.service,
            "ikepolicy_id": self.ike,
            "ipsecpolicy_id": self.esp,
            "peer_address": PEER,
            "peer_id": PEER,
            "psk": "bench-psk-0123456789",
            "dpd": {"action": "hold", "interval": 2, "timeout": 6},
        }
        if self.mode == "groups":
            conn.update(local_ep_group_id=self.local, peer_ep_group_id=self._group("cidr", cidr))
        else:
            conn["peer_cidrs"] = [cidr]
        return {"ipsec_site_connection": conn}

    def create(self, body: dict[str, Any]) -> str:
        return str(self.api.ok("POST", CONNS, body)["ipsec_site_connection"]["id"])


@contextmanager
def timed_checks(spent: list[float]) -> Iterator[None]:
    """Add the CPU time of each driver check to ``spent[0]``."""
    original = DriverConnectionRules.check

    @functools.wraps(original)
    def check(self: DriverConnectionRules, *args: Any, **kwargs: Any) -> None:
        start = time.thread_time()
        try:
            original(self, *args, **kwargs)
        finally:
            spent[0] += time.thread_time() - start

    DriverConnectionRules.check = check  # type: ignore[method-assign]
    try:
        yield
    finally:
        DriverConnectionRules.check = original  # type: ignore[method-assign]


def cpu(func: Callable[[], Any]) -> float:
    start = time.thread_time()
    func()
    return time.thread_time() - start


def _create(router: Router, body: dict[str, Any], made: list[str]) -> None:
    made.append(router.create(body))


def measure(router: Router, states: Callable[[], Any], samples: int) -> dict[str, list[float]]:
    """``samples`` creates (each deleted again, untimed) and state builds."""
    out: dict[str, list[float]] = {"create": [], "driver checks": [], "state build": []}
    bodies = [router.body() for _ in range(samples)]  # their peer groups made untimed
    made: list[str] = []
    with timed_checks(spent := [0.0]):
        for body in bodies:
            spent[0] = 0.0
            out["create"].append(cpu(functools.partial(_create, router, body, made)))
            out["driver checks"].append(spent[0])
    for conn_id in made:
        router.api.ok("DELETE", f"{CONNS}/{conn_id}")
    for _ in range(max(3, samples // 4)):
        out["state build"].append(cpu(states))
    return out


def run(sizes: list[int], samples: int, mode: str, work: Path) -> dict[int, dict[str, list[float]]]:
    url = f"sqlite:///{work / 'vpnaas.sqlite'}"
    settings = load([], database_url=url, driver="strongswan")
    app = create_app(settings)
    migrate.upgrade(app.db.engine)
    external = seed_external_network(app.controller, load([]).seed)
    agents = create_agent_app(settings)
    try:
        router = Router(InProcessClient(app, PROJECT), external, mode)
        states = functools.partial(agents.api.states, [(router.id,)])
        made = 0
        found = {}
        for size in sorted(sizes):
            for _ in range(size - made):
                router.create(router.body())
            made = size
            found[size] = measure(router, states, samples)
            print(f"  measured at {size} connections", flush=True)
        return found
    finally:
        agents.close()
        app.db.dispose()


def _ms(values: list[float], share: float) -> float:
    return 1000 * sorted(values)[int(share * (len(values) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataplane_create", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 100, 400, 1000])
    parser.add_argument("--samples", type=int, default=40, help="creates timed at each size")
    parser.add_argument("--mode", choices=("groups", "legacy"), default="groups")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="vpnaas-dataplane-create-") as tmp:
        found = run(args.sizes, args.samples, args.mode, Path(tmp))
    print(f"CPU ms, median (10th %), {args.mode} mode, load average after: {os.getloadavg()}")
    labels = list(next(iter(found.values())))
    print(f"{'connections':>12}" + "".join(f"{label:>22}" for label in labels))
    for size, figures in found.items():
        cells = "".join(f"{f'{_ms(v, 0.5):.2f} ({_ms(v, 0.1):.2f})':>22}" for v in figures.values())
        print(f"{size:>12}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
