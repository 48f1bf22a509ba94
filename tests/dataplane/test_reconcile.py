"""The agent against real charons in two namespaces, driven with desired
states built here: tunnels come up and carry only ESP, admin-down and
deletion fail closed, changes apply without restarting charon, and a charon
restart is noticed and repaired."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from tests.dataplane.conftest import (
    DATAPLANE,
    RunningAgent,
    assert_one_ike_sa_each,
    assert_ping_blocked,
    assert_ping_only_esp,
    ike_sas,
    loaded,
)
from tests.support import desired_state as ds
from tests.support import ipsec
from vpnaas.agent.status import PEER_NOT_RESPONDING
from vpnaas.ipsec.desired import parse_state

pytestmark = DATAPLANE

CONN = "0c000000-0000-4000-8000-000000000001"


def _pair(gw: ipsec.Gateways, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    a = ds.connection(
        CONN,
        local=gw.a.wan,
        peer=gw.b.wan,
        local_cidrs=[gw.a.lan_cidr],
        peer_cidrs=[gw.b.lan_cidr],
        **extra,
    )
    return a, ds.mirror(a)


def _offer(
    agents: tuple[RunningAgent, RunningAgent], pair: tuple[dict[str, Any], ...], **kw: Any
) -> None:
    a, b = agents
    b.offer(ds.state("router-b", pair[1], **kw))
    a.offer(ds.state("router-a", pair[0], **kw))


def _held(router: str, conn: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What a charon holds for ``conn`` offered alone on ``router``: its IKE
    connection and its shared secret, as the agent names them."""
    (group,) = parse_state(ds.state(router, conn)).groups()
    return [group.name], [f"psk-{group.name}"]


def _both(agents: tuple[RunningAgent, RunningAgent], status: str, timeout: float = 15.0) -> float:
    start = time.monotonic()
    for running in agents:
        running.wait(CONN, status, timeout, since=start)
    return time.monotonic() - start


@pytest.mark.parametrize(
    "version", [pytest.param("v2", id="ikev2"), pytest.param("v1", id="ikev1-main")]
)
def test_tunnel_comes_up_and_carries_only_esp(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent], version: str
) -> None:
    _offer(agents, _pair(gw, ikepolicy={"ike_version": version}))
    took = _both(agents, "ACTIVE")
    print(f"bring-up {version}: ACTIVE reported on both sides after {took:.2f}s")
    assert_ping_only_esp(gw)
    assert [sa["state"] for sa in ike_sas(gw.a)] == ["ESTABLISHED"]
    telemetry = agents[0].server.telemetry(CONN)
    expected = 2 + 6 if version == "v1" else 2 + ipsec.RETRANSMIT_TIMEOUT * (1 + 1.8 + 1.8**2)
    assert telemetry["dpd_timeout"] == pytest.approx(expected, abs=0.1)


def test_admin_down_tears_down_and_fails_closed(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    pair = _pair(gw)
    _offer(agents, pair)
    _both(agents, "ACTIVE")
    down = tuple(
        {**doc, "admin_state_up": False, "revision": doc["revision"] + "-down"} for doc in pair
    )
    _offer(agents, down)
    for running in agents:
        running.wait(CONN, "DOWN", reason="admin down")
    assert ike_sas(gw.a) == []
    assert ike_sas(gw.b) == []
    assert "unreachable 10.2.0.0/24" in gw.a.routes("221")
    assert_ping_blocked(gw)
    _offer(agents, pair)
    took = _both(agents, "ACTIVE")
    print(f"admin up again: ACTIVE after {took:.2f}s")
    assert_ping_only_esp(gw)


def test_service_admin_down_counts_as_admin_down(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    _offer(agents, _pair(gw), service_up=False)
    for running in agents:
        running.wait(CONN, "DOWN", reason="admin down")
    assert ike_sas(gw.a) == []
    assert_ping_blocked(gw)


def test_psk_mtu_and_peer_cidr_changes_apply_without_restarting_charon(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    pids = (gw.a.pid, gw.b.pid)
    _offer(agents, _pair(gw))
    _both(agents, "ACTIVE")
    spi_before = ike_sas(gw.a)[0]["initiator-spi"]

    start = time.monotonic()
    _offer(agents, _pair(gw, psk="a-new-psk-9876543210"))
    agents[0].wait(CONN, "ACTIVE", since=start)
    agents[1].wait(CONN, "ACTIVE", since=start)
    sas = ike_sas(gw.a)
    assert [sa["state"] for sa in sas] == ["ESTABLISHED"]
    assert sas[0]["initiator-spi"] != spi_before  # a new IKE SA, under the new psk
    print(f"psk change: ACTIVE again after {time.monotonic() - start:.2f}s")
    assert_ping_only_esp(gw)

    _offer(agents, _pair(gw, psk="a-new-psk-9876543210", mtu=1300))
    deadline = time.monotonic() + 10
    while "mtu 1300" not in gw.a.routes("220") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "mtu 1300" in gw.a.routes("220")
    probe = gw.a.exec(
        "ping", "-c", "1", "-W", "1", "-M", "do", "-s", "1273", "-I", gw.a.lan, gw.b.lan
    )
    assert probe.returncode != 0  # 1301 bytes do not fit

    a = ds.connection(
        CONN, local=gw.a.wan, peer=gw.b.wan, local_cidrs=[gw.a.lan_cidr],
        peer_cidrs=["10.2.0.0/25"], psk="a-new-psk-9876543210",
    )  # fmt: skip
    start = time.monotonic()
    _offer(agents, (a, ds.mirror(a)))
    agents[0].wait(CONN, "ACTIVE", since=start)
    deadline = time.monotonic() + 10
    while "10.2.0.0/25" not in gw.a.routes("220") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "10.2.0.0/25 dev ipsec0" in gw.a.routes("220")
    assert "unreachable 10.2.0.0/25" in gw.a.routes("221")
    assert "10.2.0.0/24" not in gw.a.routes("221")
    agents[1].wait(CONN, "ACTIVE", since=start)
    assert "10.2.0.0/24" not in gw.a.routes("220")  # charon removed the old route
    assert_ping_only_esp(gw)
    assert (gw.a.pid, gw.b.pid) == pids
    assert gw.a.charon_alive()
    assert gw.b.charon_alive()


def test_wrong_psk_is_an_authentication_error(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    a, b = _pair(gw)
    _offer(agents, (a, {**b, "psk": "not-the-same-psk", "initiator": "response-only"}))
    agents[0].wait(CONN, "ERROR", reason="authentication failed")
    agents[1].wait(CONN, "ERROR", reason="authentication failed")  # read from its log lines
    assert_ping_blocked(gw)


def test_delete_removes_sas_secrets_and_fail_closed_routes(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    pair = _pair(gw)
    _offer(agents, pair)
    _both(agents, "ACTIVE")
    assert loaded(gw.a) == _held("router-a", pair[0])
    for running in agents:
        running.offer(ds.state(f"router-{running.site.netns}"))
    deadline = time.monotonic() + 10
    while (ike_sas(gw.a) or ike_sas(gw.b)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for site in (gw.a, gw.b):
        assert ike_sas(site) == []
        assert loaded(site) == ([], [])
        assert site.routes("221").strip() == ""
        assert "lookup 221" not in site.ip("rule")
    assert agents[0].server.latest() == {}


@pytest.mark.parametrize(
    "side", [pytest.param(0, id="first-starter"), pytest.param(1, id="second")]
)
def test_charon_restart_is_detected_and_everything_reloaded(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent], side: int
) -> None:
    """Whichever charon dies, the other side's DPD notices, and the
    restarted one gets everything back from its agent; the gateway whose
    address sorts first starts at load while the other retries, so a
    restart of the first one races the other's retries into two IKE SAs."""
    pair = _pair(gw)
    _offer(agents, pair)
    _both(agents, "ACTIVE")
    dead, alive = (gw.a, gw.b) if side == 0 else (gw.b, gw.a)
    watcher = agents[1 - side]
    killed = time.monotonic()
    dead.kill_charon(signal.SIGKILL)
    took = watcher.wait(CONN, "DOWN", timeout=20, since=killed, reason=PEER_NOT_RESPONDING)
    dpd = watcher.server.telemetry(CONN)["dpd_timeout"]
    print(f"peer killed: DOWN (peer not responding) after {took:.2f}s (effective DPD {dpd}s)")
    assert took <= dpd + 2.0
    assert_ping_blocked(gw)
    time.sleep(dpd)  # charon's re-initiations time out meanwhile: the reason stays
    assert watcher.server.latest()[CONN] == ("DOWN", PEER_NOT_RESPONDING)
    dead.start_charon()
    restarted = time.monotonic()
    _both(agents, "ACTIVE", timeout=30)
    print(f"peer charon restarted: ACTIVE on both after {time.monotonic() - restarted:.2f}s")
    assert_one_ike_sa_each(gw)
    assert loaded(dead) == _held(("router-a", "router-b")[side], pair[side])
    assert alive.charon_alive()
    assert_ping_only_esp(gw)


def test_response_only_never_initiates(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    _offer(agents, _pair(gw, initiator="response-only"))
    for running in agents:
        running.wait(CONN, "DOWN", reason="waiting for peer")
    time.sleep(3.0)  # longer than the grace time and a first retry of a bi-directional one
    assert ike_sas(gw.a) == []
    assert ike_sas(gw.b) == []
    assert agents[0].server.latest()[CONN] == ("DOWN", "waiting for peer")
    assert_ping_blocked(gw)


def test_peer_going_away_is_reported_from_its_event(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    _offer(agents, _pair(gw))
    _both(agents, "ACTIVE")
    stopped = time.monotonic()
    gw.b.kill_charon(signal.SIGTERM)  # charon sends DELETE on its way out
    took = agents[0].wait(CONN, "DOWN", timeout=10, since=stopped)
    print(f"peer charon stopped (DELETE sent): DOWN reported after {took:.3f}s")
    assert_ping_blocked(gw)
    gw.b.start_charon()
    _both(agents, "ACTIVE", timeout=30)
