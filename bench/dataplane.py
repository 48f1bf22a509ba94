"""The data plane's figures: real charons, agents and a server (root).

``.venv/bin/python -m bench.dataplane`` (``make bench-dataplane``) builds two
gateways (:mod:`vpnaas.lab.gateways`) with one LAN address per tunnel added
before charon starts, starts ``vpnaas serve --driver strongswan`` and an
agent per gateway, creates the topology through the API (per gateway a LAN
network with one /28 subnet per tunnel as router interfaces, a VPN service,
an endpoint group per subnet and per peer CIDR) and then measures, in order:

0. the creates alone, agents stopped, for 100 and 500 tunnels;
1. API create → all ``ACTIVE`` for 100, then 500 tunnels (a connection on
   each gateway per tunnel), polling the list every 0.1 s: first all of
   A's connections, then B's (``create_*_sides``), then tunnel by tunnel,
   both ends of one before the next (``create_*``);
2. RSS of both agents and both charons at 500 tunnels;
3. agent restart with 500 live tunnels: both agents stopped and started
   again; children's SPIs compared, every status seen, time to the first
   full status of the new agents;
4. the ceiling: both charons restarted, and the same IKE connection
   (the agents' own translation of the same desired state) loaded straight
   over VICI, for 100 and for 500 children: load → all INSTALLED;
5. from that clean start, the agents bring all 500 up again (full resync);
6. peer death: charon B SIGKILLed; from charon A's first down event to the
   first and to the last of A's connections ``DOWN`` in a list;
7. the list of all 1,000 connections (wrk, 4 connections) with no writes,
   then while a stand-in agent reports one connection's status flipping
   20 times a second.

Everything is torn down in ``finally`` (agents, server and charons by PID,
namespaces, the state directory); the results go to
``bench/results/dataplane-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import threading
import time
from typing import Any

from bench import dataplane_world as world_mod
from bench import load
from bench.dataplane_world import World
from bench.servers import ROOT, cpu_seconds, descendants, memory_of
from vpnaas.agent.charon import Charon
from vpnaas.agent.events import EventListener
from vpnaas.ipsec.desired import parse_state
from vpnaas.ipsec.translate import ike_config, shared_secret

RESULTS = ROOT / "bench" / "results"
FLIPS_PER_SECOND = 20


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


def cpu_now(w: World) -> dict[str, float]:
    """CPU seconds used so far by the server (all its processes), each
    agent and charon, and this harness (its client threads)."""
    pids = {"server": descendants(w.server.pid), "harness": [os.getpid()]}
    pids.update((name, [pid]) for name, pid in w.pids().items())
    return {name: cpu_seconds(group) for name, group in pids.items()}


def cpu_since(w: World, before: dict[str, float]) -> dict[str, float]:
    """CPU seconds each process used since ``before`` (:func:`cpu_now`)."""
    now = cpu_now(w)
    return {name: round(now[name] - before[name], 2) for name in before if name in now}


def create_to_active(w: World, n: int, order: str = "sides") -> dict[str, Any]:
    """Create ``n`` tunnels through the API in ``order``
    (:meth:`World.create_connections`); seconds until a list shows all
    ``2n`` connections ACTIVE (or how many were, when it gives up), and
    the CPU each process used during the creates and after them."""
    cpu = cpu_now(w)
    start = time.monotonic()
    conns = w.create_connections(n, order)
    created = time.monotonic() - start
    out: dict[str, Any] = {"tunnels": n, "order": order, "create_s": round(created, 2)}
    out["cpu_creating_s"] = cpu_since(w, cpu)
    cpu = cpu_now(w)
    try:
        w.wait_status(conns, "ACTIVE", timeout=60 + n * 0.6)
    except TimeoutError as exc:
        out["gave_up"] = str(exc)
        log(f"{n} tunnels: {exc}")
        return out
    out["all_active_s"] = round(time.monotonic() - start, 2)
    out["cpu_after_s"] = cpu_since(w, cpu)
    out["after_last_create_s"] = round(out["all_active_s"] - created, 2)
    log(f"{n} tunnels ({order}): {2 * n} connections created in {created:.1f}s, all ACTIVE at "
        f"{out['all_active_s']:.1f}s")  # fmt: skip
    return out


def creates_alone(w: World, n: int) -> float:
    """Seconds the API takes to create ``n`` tunnels, tunnel by tunnel, with
    the agents stopped: what create → ``ACTIVE`` cannot go below."""
    cpu = cpu_now(w)
    start = time.monotonic()
    w.create_connections(n, "tunnels")
    took = time.monotonic() - start
    log(f"{n} tunnels: {2 * n} connections created in {took:.2f}s with no agent, "
        f"CPU {cpu_since(w, cpu)}")  # fmt: skip
    w.delete_connections()
    return round(took, 2)


def rss(w: World) -> dict[str, float]:
    out = {}
    for name, pid in w.pids().items():
        out[name] = round(memory_of(pid)["VmRSS"], 1)
    log(f"RSS MiB: {out}")
    return out


def spis(w: World) -> dict[str, set[tuple[str, str]]]:
    found = {}
    for side, site in (("a", w.gw.a), ("b", w.gw.b)):
        with Charon(site.vici) as charon:
            found[side] = {
                (str(c["spi-in"]), str(c["spi-out"]))
                for sa in charon.list_sas()
                for entry in sa.values()
                for c in (entry.get("child-sas") or {}).values()
                if c.get("state") == "INSTALLED"
            }
    return found


def agent_restart(w: World) -> dict[str, Any]:
    before = spis(w)
    seen: set[str] = set()
    stop = threading.Event()
    watcher = threading.Thread(target=w.watch, args=(seen, stop), daemon=True)
    watcher.start()
    try:
        offsets = {side: agent.log_path.stat().st_size for side, agent in w.agents.items()}
        for agent in w.agents.values():
            agent.stop()
        start = time.monotonic()
        for agent in w.agents.values():
            agent.start()
        took = {side: w.first_status_line(side, offsets[side], start) for side in w.agents}
        time.sleep(3)
    finally:
        stop.set()
        watcher.join()
    after = spis(w)
    torn = {side: len(before[side] - after[side]) for side in before}
    log(f"agent restart: resync {took}, SPIs torn down {torn}, statuses seen {sorted(seen)}")
    return {"resync_s": took, "children_before": {k: len(v) for k, v in before.items()},
            "torn_down": torn, "statuses_seen": sorted(seen)}  # fmt: skip


def ceiling(w: World, n: int) -> float:
    """Restart both charons; load ``n`` children of the agents' IKE
    connection straight over VICI (B, then A, which starts them)."""
    w.restart_charons()
    loads = []
    for site, router in ((w.gw.b, w.routers["b"]), (w.gw.a, w.routers["a"])):
        desired = parse_state(w.desired_state(site.netns, router))
        (group,) = desired.groups()
        conf = ike_config(group)
        if site is w.gw.a:  # A starts n of them; B (responder) has all
            (name,) = conf
            kids = conf[name]["children"]
            conf[name]["children"] = dict(list(kids.items())[:n])
        loads.append((site, shared_secret(group), conf))
    cpu = cpu_now(w)
    start = time.monotonic()
    for site, secret, conf in loads:
        with Charon(site.vici) as charon:
            charon.load_shared(secret)
            charon.load_conn(conf)
    w.wait_installed(n, timeout=120)
    took = time.monotonic() - start
    log(f"ceiling, charon alone: {n} children INSTALLED in {took:.2f}s, CPU {cpu_since(w, cpu)}")
    return round(took, 2)


def agents_from_scratch(w: World, conns: list[str]) -> float:
    """With the agents gone long enough for their connections to be DOWN,
    charons restarted empty: agents start, load everything, report ACTIVE."""
    w.wait_status(conns, "DOWN", timeout=60)
    w.restart_charons()
    start = time.monotonic()
    for agent in w.agents.values():
        agent.start()
    took = w.wait_status(conns, "ACTIVE", timeout=60 + len(conns) / 10)
    log(f"agents after a charon restart: all ACTIVE in {took:.2f}s")
    return round(time.monotonic() - start, 2)


def peer_death(w: World, conns_a: list[str]) -> dict[str, float]:
    first_event: list[float] = []

    def on_event(kind: str, message: dict[str, object]) -> None:
        if kind in ("ike-updown", "child-updown") and "up" not in message and not first_event:
            first_event.append(time.monotonic())

    listener = EventListener(w.gw.a.vici, on_event)
    listener.start()
    time.sleep(1)
    killed = time.monotonic()
    w.gw.b.kill_charon(signal.SIGKILL)
    first, last = w.first_and_all(conns_a, "DOWN", timeout=60)
    listener.stop()
    listener.join(5)
    if not first_event:
        raise RuntimeError("charon A sent no down event")
    event = first_event[0]
    out = {"event_after_kill_s": round(event - killed, 2), "first_down_s": round(first - event, 3),
           "all_down_s": round(last - event, 3)}  # fmt: skip
    log(f"peer death: {out}")
    return out


def flipper(w: World, conn: str, stop: threading.Event, counter: list[int]) -> None:
    """A stand-in agent for router A: every connection once, then, as the
    agent does (docs/agent-protocol.md §reports), only what changed: one
    connection ACTIVE, DOWN, ACTIVE…"""
    host = f"gw-{w.gw.a.netns}"
    state = w.desired_state(w.gw.a.netns, w.routers["a"])
    revisions = {
        c["id"]: c["revision"]
        for r in state["routers"]
        for s in r["services"]
        for c in s["connections"]
    }
    changed = dict.fromkeys(revisions, "DOWN")
    status = "DOWN"
    while not stop.is_set():
        started = time.monotonic()
        report = [{"id": i, "revision": revisions[i], "status": s} for i, s in changed.items()]
        w.agent_call("agent/v1/reports", {"host": host, "routers": [w.routers["a"]],
                                          "connections": report})  # fmt: skip
        counter[0] += 1
        status = "ACTIVE" if status == "DOWN" else "DOWN"
        changed = {conn: status}
        stop.wait(max(0.0, 1 / FLIPS_PER_SECOND - (time.monotonic() - started)))


def list_under_writes(w: World, conn: str, seconds: int) -> dict[str, Any]:
    for agent in w.agents.values():
        agent.stop()
    request = load.Request(path="/v2.0/vpn/ipsec-site-connections", headers=w.wrk_headers())
    base = w.server.url.rstrip("/")
    load.run(base, request, connections=4, seconds=1, script_dir=w.state)
    quiet = load.run(base, request, connections=4, seconds=seconds, script_dir=w.state)
    stop, counter = threading.Event(), [0]
    thread = threading.Thread(target=flipper, args=(w, conn, stop, counter), daemon=True)
    thread.start()
    time.sleep(1)
    try:
        start_count = counter[0]
        busy = load.run(base, request, connections=4, seconds=seconds, script_dir=w.state)
        rate = (counter[0] - start_count) / busy.seconds
    finally:
        stop.set()
        thread.join(10)
    out = {"quiet_rps": round(quiet.rps, 1), "writes_rps": round(busy.rps, 1),
           "ratio": round(busy.rps / quiet.rps, 3), "status_changes_per_s": round(rate, 1),
           "quiet_p50_ms": quiet.p50_ms, "writes_p50_ms": busy.p50_ms,
           "writes_p99_ms": busy.p99_ms}  # fmt: skip
    log(f"list of 1,000 under status writes: {out}")
    return out


def run(opts: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"loadavg_start": os.getloadavg()}
    with world_mod.world(opts.tunnels) as w:
        log(f"topology for {opts.tunnels} tunnels built in {w.setup_s:.1f}s")
        results["setup_s"] = round(w.setup_s, 1)
        for agent in w.agents.values():
            agent.stop()
        for n in (min(100, opts.tunnels), opts.tunnels):
            results[f"creates_alone_{n}_s"] = creates_alone(w, n)
        w.resume_agents()
        for order, suffix in (("sides", "_sides"), ("tunnels", "")):
            results[f"create_100{suffix}"] = create_to_active(w, min(100, opts.tunnels), order)
            w.delete_connections()
            results[f"create_500{suffix}"] = create_to_active(w, opts.tunnels, order)
            if suffix:
                w.delete_connections()
        results["rss_mib"] = rss(w)
        results["restart"] = agent_restart(w)
        for agent in w.agents.values():
            agent.stop()
        results["ceiling_100_s"] = ceiling(w, min(100, opts.tunnels))
        results["ceiling_500_s"] = ceiling(w, opts.tunnels)
        results["agents_from_scratch_s"] = agents_from_scratch(w, w.conns)
        results["peer_death"] = peer_death(w, w.conns_a)
        results["list"] = list_under_writes(w, w.conns_a[0], opts.seconds)
    results["loadavg_end"] = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.dataplane", description=__doc__)
    parser.add_argument("--tunnels", type=int, default=500, help="the big figure (default 500)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per list run")
    opts = parser.parse_args(argv)
    results = run(opts)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"dataplane-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2, default=sorted), encoding="utf-8")
    print(json.dumps(results, indent=2, default=sorted))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
