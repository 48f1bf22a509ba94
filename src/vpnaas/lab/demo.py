"""``make demo``: two gateways, a server, two agents, one VPN, built the way
a user would, in under a minute; everything is torn down on the way out.

``python -m vpnaas.lab.demo`` (root, strongSwan installed; ``make demo``
installs it) builds two gateway namespaces with a LAN behind each and a
charon in each (:mod:`vpnaas.lab.gateways`), starts ``vpnaas serve --driver
strongswan`` with its SQLite file and logs under
``/var/lib/vpnaas-demo-<pid>``, creates the networks, routers, policies,
services, endpoint groups and the two connections through the API (printing
the ``openstack`` command each call stands for), starts an agent per
gateway, waits until both connections are ``ACTIVE``, pings from one LAN to
the other, and prints the tunnel telemetry and the swanctl export when the
server has those routes. On any exit (success, an error, Ctrl-C, SIGTERM)
agents, server and charons are stopped by their PIDs, the namespaces are
deleted and the state directory is removed. Names carry the PID, so demos
can run side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from vpnaas.lab import server as lab_server
from vpnaas.lab.agent_process import AgentProcess
from vpnaas.lab.gateways import Gateways, Site, dataplane_missing, gateways
from vpnaas.lab.server import Api, LabServer

__all__ = ["main"]

CONNS = "v2.0/vpn/ipsec-site-connections"
PING_COUNT = 5


@dataclass
class Demo:
    """What the demo started, for the teardown report."""

    state: Path
    names: tuple[str, str]
    pids: dict[str, int] = field(default_factory=dict)
    conns: dict[str, str] = field(default_factory=dict)


def say(text: str) -> None:
    print(text, flush=True)


def step(command: str, method: str, path: str) -> None:
    """One user step: the ``openstack`` command and the HTTP call it makes."""
    say(f"  $ openstack {command}\n      {method} /{path}")


def _topology(api: Api, gw: Gateways) -> dict[str, dict[str, str]]:
    """The WAN as external network; per gateway a LAN and a router."""
    step("network create --external wan", "POST", "v2.0/networks")
    wan = api.create("networks", "network", {"name": "wan", "router:external": True})["id"]
    step(
        "subnet create --network wan --subnet-range 192.0.2.0/24 --gateway 192.0.2.254 wan",
        "POST",
        "v2.0/subnets",
    )
    api.create(
        "subnets",
        "subnet",
        {"network_id": wan, "cidr": "192.0.2.0/24", "ip_version": 4, "gateway_ip": "192.0.2.254"},
    )
    ids: dict[str, dict[str, str]] = {}
    for side, site in (("a", gw.a), ("b", gw.b)):
        step(f"network create lan-{side}", "POST", "v2.0/networks")
        net = api.create("networks", "network", {"name": f"lan-{side}"})["id"]
        step(
            f"subnet create --network lan-{side} --subnet-range {site.lan_cidr} lan-{side}",
            "POST",
            "v2.0/subnets",
        )
        body = {"network_id": net, "cidr": site.lan_cidr, "ip_version": 4, "name": f"lan-{side}"}
        subnet = api.create("subnets", "subnet", body)["id"]
        step(
            f"router create --external-gateway wan --fixed-ip ip-address={site.wan} r-{side}",
            "POST",
            "v2.0/routers",
        )
        gateway = {"network_id": wan, "external_fixed_ips": [{"ip_address": site.wan}]}
        router = api.create(
            "routers", "router", {"name": f"r-{side}", "external_gateway_info": gateway}
        )["id"]
        path = f"v2.0/routers/{router}/add_router_interface"
        step(f"router add subnet r-{side} lan-{side}", "PUT", path)
        api.call("PUT", path, {"subnet_id": subnet})
        ids[side] = {"router": router, "subnet": subnet}
    return ids


def _vpn(api: Api, gw: Gateways, topo: dict[str, dict[str, str]]) -> dict[str, str]:
    """Policies, a service and endpoint groups per gateway, two connections."""
    step("vpn ike policy create ike-demo", "POST", "v2.0/vpn/ikepolicies")
    ike = api.create("vpn/ikepolicies", "ikepolicy", {"name": "ike-demo"})["id"]
    step("vpn ipsec policy create esp-demo", "POST", "v2.0/vpn/ipsecpolicies")
    esp = api.create("vpn/ipsecpolicies", "ipsecpolicy", {"name": "esp-demo"})["id"]
    psk = os.urandom(12).hex()
    conns: dict[str, str] = {}
    for side, peer in (("a", gw.b), ("b", gw.a)):
        step(f"vpn service create --router r-{side} vpn-{side}", "POST", "v2.0/vpn/vpnservices")
        body: dict[str, Any] = {"name": f"vpn-{side}", "router_id": topo[side]["router"]}
        svc = api.create("vpn/vpnservices", "vpnservice", body)["id"]
        groups = {}
        for kind, value in (("subnet", topo[side]["subnet"]), ("cidr", peer.lan_cidr)):
            name = f"{'local' if kind == 'subnet' else 'peer'}-{side}"
            shown = f"lan-{side}" if kind == "subnet" else value
            step(
                f"vpn endpoint group create --type {kind} --value {shown} {name}",
                "POST",
                "v2.0/vpn/endpoint-groups",
            )
            body = {"name": name, "type": kind, "endpoints": [value]}
            groups[kind] = api.create("vpn/endpoint-groups", "endpoint_group", body)["id"]
        step(
            f"vpn ipsec site connection create --vpnservice vpn-{side} --ikepolicy ike-demo "
            f"--ipsecpolicy esp-demo --peer-address {peer.wan} --peer-id {peer.wan} "
            f"--local-endpoint-group local-{side} --peer-endpoint-group peer-{side} "
            f"--psk '<secret>' {side}-to-{'b' if side == 'a' else 'a'}",
            "POST",
            CONNS,
        )
        body = {
            "name": f"{side}-to-{'b' if side == 'a' else 'a'}",
            "vpnservice_id": svc,
            "ikepolicy_id": ike,
            "ipsecpolicy_id": esp,
            "peer_address": peer.wan,
            "peer_id": peer.wan,
            "local_ep_group_id": groups["subnet"],
            "peer_ep_group_id": groups["cidr"],
            "psk": psk,
        }
        conn = api.create("vpn/ipsec-site-connections", "ipsec_site_connection", body)
        say(f"      -> {conn['id']} {conn['status']}")
        conns[side] = conn["id"]
    return conns


def _statuses(api: Api, conns: dict[str, str]) -> dict[str, str]:
    rows = api.call("GET", f"{CONNS}?fields=id&fields=status")["ipsec_site_connections"]
    by_id = {row["id"]: row["status"] for row in rows}
    return {side: by_id.get(conn, "?") for side, conn in conns.items()}


def _wait_active(api: Api, conns: dict[str, str], timeout: float) -> float:
    """Poll the list with a progress line until every connection is ACTIVE."""
    start = time.monotonic()
    tty = sys.stdout.isatty()
    last = ""
    spin = "|/-\\"
    while True:
        took = time.monotonic() - start
        now = _statuses(api, conns)
        line = "  ".join(
            f"{side}-to-{peer}: {status:<14}"
            for (side, status), peer in zip(now.items(), ("b", "a"), strict=True)
        ).rstrip()
        if tty:
            print(f"\r  {spin[int(took * 5) % 4]} {took:5.1f}s  {line}", end="", flush=True)
        elif line != last:
            say(f"  {took:5.1f}s  {line}")
        last = line
        if set(now.values()) == {"ACTIVE"}:
            if tty:
                print(flush=True)
            return took
        if took > timeout:
            raise TimeoutError(f"not ACTIVE after {timeout:.0f}s: {now}")
        time.sleep(0.2)


def _show_extras(api: Api, conn: str) -> None:
    """The tunnel telemetry (once a report counted the ping's bytes) and the
    swanctl export, where the server has them."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status, body = api.request("GET", f"{CONNS}/{conn}/tunnel")
        if status != 200 or (body["tunnel"].get("bytes_out") or 0) > 0:
            break
        time.sleep(0.2)
    for label, path in (
        ("tunnel telemetry", f"{CONNS}/{conn}/tunnel"),
        ("swanctl export for the peer", f"{CONNS}/{conn}/peer-config?format=swanctl"),
    ):
        say(f"\n== {label}: GET /{path}")
        status, body = api.request("GET", path)
        if status != 200:
            say(f"  (this server does not answer it yet: {status})")
        elif isinstance(body, str):
            say(body.rstrip())
        else:
            say(json.dumps(body, indent=2, sort_keys=True))


def _start_agents(
    server: LabServer,
    gw: Gateways,
    topo: dict[str, dict[str, str]],
    demo: Demo,
    stack: contextlib.ExitStack,
) -> None:
    for side, site in (("a", gw.a), ("b", gw.b)):
        agent = AgentProcess(site, topo[side]["router"], server.agent_url)
        say(
            f"  $ vpnaas agent --server-url {server.agent_url} --router r-{side} "
            f"--netns {site.netns} --vici-socket {site.vici}"
        )
        # its stop is in the teardown before it starts: a Ctrl-C while the
        # agents start left one running, unknown to the teardown
        stack.callback(agent.stop)
        with _SIGNALS.held_back():
            agent.start()
        assert agent.proc is not None
        demo.pids[f"agent {side}"] = agent.proc.pid
        say(f"      pid {agent.proc.pid}, log {agent.log_path}")


def _ping(a: Site, b: Site) -> bool:
    sent, received = a.ping(b.lan, count=PING_COUNT, interval=0.2)
    ok = sent == PING_COUNT and received == PING_COUNT
    say(f"  ping {a.lan} -> {b.lan}: {received}/{sent} received {'(ok)' if ok else '(FAILED)'}")
    return ok


def _run(demo: Demo, timeout: float) -> bool:
    say(f"== two gateways: namespaces {demo.names[0]} and {demo.names[1]}, state {demo.state}")
    with gateways(demo.state, demo.names) as gw, contextlib.ExitStack() as stack:
        try:
            return _steps(demo, gw, stack, timeout)
        finally:
            _ignore_signals()  # before the teardown: a second Ctrl-C must not cut it short
            say("\n== tearing down")


def _steps(demo: Demo, gw: Gateways, stack: contextlib.ExitStack, timeout: float) -> bool:
    for side, site in (("a", gw.a), ("b", gw.b)):
        assert site.pid is not None
        demo.pids[f"charon {side}"] = site.pid
        say(f"  {site.netns}: WAN {site.wan}, LAN {site.lan_cidr}, charon pid {site.pid}")
    say("\n== vpnaas serve --driver strongswan")
    with _SIGNALS.held_back():  # until it answers: its stop is then in the stack
        server = stack.enter_context(lab_server.lab_server(demo.state / "server"))
    demo.pids["server"] = server.pid
    say(f"  API {server.url}, agent API {server.agent_url}, pid {server.pid}")
    api = Api(server.url)
    say("\n== the topology, through the API")
    topo = _topology(api, gw)
    say("\n== the VPN, through the API")
    demo.conns = _vpn(api, gw, topo)
    say("\n== one agent per gateway")
    _start_agents(server, gw, topo, demo, stack)
    say("\n== waiting for both connections to be ACTIVE")
    took = _wait_active(api, demo.conns, timeout)
    say(f"  both connections ACTIVE after {took:.1f}s")
    say("\n== LAN to LAN through the tunnel")
    ok = _ping(gw.a, gw.b)
    _show_extras(api, demo.conns["a"])
    return ok


def _ignore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class _Signals:
    """SIGTERM as Ctrl-C; later signals are ignored while tearing down. One
    that comes while a process is being started waits until its pid is
    known to the teardown (between the fork and the assignment of the
    ``Popen``, a Ctrl-C left an agent running)."""

    def __init__(self) -> None:
        self.holding = False
        self.held = False

    def interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.holding:
            self.held = True
            return
        _ignore_signals()
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def held_back(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.held:
                _ignore_signals()
                raise KeyboardInterrupt


_SIGNALS = _Signals()


@contextlib.contextmanager
def _report(demo: Demo) -> Iterator[None]:
    try:
        yield
    finally:
        left = [name for name, pid in demo.pids.items() if Path(f"/proc/{pid}").exists()]
        say(
            f"torn down: pids {' '.join(str(p) for p in demo.pids.values())}; "
            f"namespaces {' '.join(demo.names)}; state {demo.state}"
            + (f"; STILL RUNNING: {', '.join(left)}" if left else "")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpnaas.lab.demo", description=__doc__)
    parser.add_argument("--timeout", type=float, default=45.0, help="seconds to wait for ACTIVE")
    args = parser.parse_args(argv)
    missing = dataplane_missing()
    if missing:
        say(f"demo: cannot run: {missing}")
        return 2
    pid = os.getpid()
    demo = Demo(Path(f"/var/lib/vpnaas-demo-{pid}"), (f"vpd{pid}a", f"vpd{pid}b"))
    signal.signal(signal.SIGTERM, _SIGNALS.interrupt)
    signal.signal(signal.SIGINT, _SIGNALS.interrupt)
    started = time.monotonic()
    try:
        with _report(demo):
            ok = _run(demo, args.timeout)
    except KeyboardInterrupt:
        say("demo: interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - any failure: torn down above, said here
        say(f"demo: FAILED: {type(exc).__name__}: {exc}")
        return 1
    say(f"demo: {'OK' if ok else 'FAILED (ping)'} in {time.monotonic() - started:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
