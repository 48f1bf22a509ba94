"""What the agent's reports carry against real charons (docs/agent-protocol.md
§reports): everything once, then only what changed, so a quiet gateway's
heartbeat lists no connection and traffic lists the one that carried it."""

from __future__ import annotations

import time

from tests.dataplane.conftest import DATAPLANE, RunningAgent, assert_one_ike_sa_each
from tests.dataplane.test_reconcile import CONN, _offer, _pair
from tests.support import ipsec

pytestmark = DATAPLANE

#: the fixture's agents send a heartbeat every 2 s
HEARTBEAT = 2.0


def _listed_since(running: RunningAgent, since: float) -> list[list[str]]:
    return [
        [str(c["id"]) for c in report["connections"]]
        for at, report in running.server.reports
        if at >= since
    ]


def test_heartbeats_list_only_what_changed(
    gw: ipsec.Gateways, agents: tuple[RunningAgent, RunningAgent]
) -> None:
    _offer(agents, _pair(gw))
    for running in agents:
        running.wait(CONN, "ACTIVE")
    a = agents[0]
    assert any(CONN in listed for listed in _listed_since(a, 0.0))
    assert_one_ike_sa_each(gw)  # a second IKE SA from simultaneous starts is gone
    # the SAs settle (a duplicate child from simultaneous starts may still go,
    # which is news), then heartbeats list nothing, however many there are
    deadline = time.monotonic() + 10 * HEARTBEAT
    while True:
        quiet = time.monotonic()
        time.sleep(2.5 * HEARTBEAT)
        heartbeats = _listed_since(a, quiet)
        if heartbeats == [[]] * len(heartbeats) or time.monotonic() > deadline:
            break
    assert len(heartbeats) >= 2, heartbeats
    assert heartbeats == [[]] * len(heartbeats)
    before = a.server.telemetry(CONN)["child_sas"][0]["packets_out"]
    sent, received = gw.a.ping(gw.b.lan, count=3)
    assert (sent, received) == (3, 3)
    traffic = time.monotonic()
    time.sleep(1.5 * HEARTBEAT)
    assert [CONN] in _listed_since(a, traffic)
    assert a.server.telemetry(CONN)["child_sas"][0]["packets_out"] >= before + 3
    assert a.server.latest()[CONN] == ("ACTIVE", None)
