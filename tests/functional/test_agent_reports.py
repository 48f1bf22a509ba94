"""Reports that carry only what changed (docs/agent-protocol.md §reports):
the server writes only the connections whose status or telemetry moved,
bumps no write counter a list depends on when nothing did, and names in
``resend`` the connections it needs the agent to report again."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.functional.test_agent_api import PROJECT, World, world
from vpnaas.db.tables import schema

__all__ = ["world"]

CONNS = "/vpn/ipsec-site-connections"


def _counters(world: World) -> dict[str, int]:
    table = schema().revisions
    with world.agent_app.db.read() as db:
        return {str(row[0]): int(row[1]) for row in db.execute(sa.select(table))}


def _more_connections(world: World, n: int) -> list[dict[str, Any]]:
    """``n`` more connections of the world's service; every connection's
    state entry."""
    first = world.connection_doc()
    for i in range(n):
        body = {
            "vpnservice_id": world.service,
            "ikepolicy_id": first["ikepolicy"]["id"],
            "ipsecpolicy_id": first["ipsecpolicy"]["id"],
            "peer_address": "172.24.4.200",
            "peer_id": "172.24.4.200",
            "peer_cidrs": [f"10.3.{i}.0/24"],
            "psk": "s3cret-of-a",
        }
        result = world.api.simulate_post(
            f"/v2.0{CONNS}", json={"ipsec_site_connection": body}, headers=PROJECT
        )
        assert result.status_code == 201, result.text
    conns: list[dict[str, Any]] = world.state()["routers"][0]["services"][0]["connections"]
    return conns


def _entry(conn: dict[str, Any], status: str, rx: int = 0) -> dict[str, Any]:
    child = {"name": conn["id"], "uniqueid": "7", "state": "INSTALLED", "bytes_in": rx}
    telemetry = {"ike_sa": {"uniqueid": "1", "state": "ESTABLISHED"}, "child_sas": [child]}
    reason = None if status == "ACTIVE" else "peer not responding"
    return {
        "id": conn["id"],
        "revision": conn["revision"],
        "status": status,
        "reason": reason,
        "telemetry": telemetry,
    }


def _statuses(world: World) -> dict[str, str]:
    rows = world.api.simulate_get(f"/v2.0{CONNS}", headers=PROJECT).json
    return {row["id"]: row["status"] for row in rows["ipsec_site_connections"]}


def test_a_report_of_one_change_leaves_the_others_as_they_were(world: World) -> None:
    conns = _more_connections(world, 4)
    assert world.report(*(_entry(c, "ACTIVE") for c in conns))["accepted"] == [
        c["id"] for c in conns
    ]
    assert set(_statuses(world).values()) == {"ACTIVE"}
    answer = world.report(_entry(conns[2], "DOWN"))
    assert answer == {"accepted": [conns[2]["id"]], "stale": []}
    statuses = _statuses(world)
    assert statuses.pop(conns[2]["id"]) == "DOWN"
    assert set(statuses.values()) == {"ACTIVE"}
    history = world.show(f"{CONNS}/{conns[2]['id']}/tunnel")["history"]
    assert [h["status"] for h in history] == ["DOWN", "ACTIVE"]


def test_a_report_that_changes_nothing_moves_no_list(world: World) -> None:
    conns = _more_connections(world, 2)
    world.report(*(_entry(c, "ACTIVE", rx=10) for c in conns))
    before = _counters(world)
    world.report(*(_entry(c, "ACTIVE", rx=10) for c in conns))
    world.report()  # a heartbeat: nothing changed
    after = _counters(world)
    assert {k: v for k, v in after.items() if k != "agent"} == {
        k: v for k, v in before.items() if k != "agent"
    }
    world.report(_entry(conns[0], "ACTIVE", rx=20))  # traffic: the tunnel row only
    moved = {k for k, v in _counters(world).items() if v != after.get(k)}
    assert moved == {"agent", "tunnel"}
    assert world.show(f"{CONNS}/{conns[0]['id']}/tunnel")["bytes_in"] == 20


def test_an_agent_back_from_the_dead_is_asked_for_everything(world: World) -> None:
    conns = _more_connections(world, 2)
    world.report(*(_entry(c, "ACTIVE") for c in conns))
    agents = schema().table("agent")
    with world.agent_app.db.write() as db:
        db.execute(sa.update(agents).values(heartbeat_timestamp="2000-01-01 00:00:00"))
    assert world.agent_app.api.sweep() == ["gw-a"]
    assert set(_statuses(world).values()) == {"DOWN"}
    answer = world.report(_entry(conns[0], "ACTIVE"))
    assert answer["resend"] == sorted(c["id"] for c in conns[1:])
    world.report(*(_entry(c, "ACTIVE") for c in conns[1:]))
    assert set(_statuses(world).values()) == {"ACTIVE"}
    assert "resend" not in world.report()


def test_a_pending_connection_of_the_same_revision_is_asked_for(world: World) -> None:
    conn = world.connection_doc()
    assert world.report(_entry(conn, "ACTIVE")) == {"accepted": [conn["id"]], "stale": []}
    path = f"{CONNS}/{world.connection}"
    assert world.update(path, "ipsec_site_connection", {"description": "d"})["status"] == (
        "PENDING_UPDATE"
    )
    assert world.connection_doc()["revision"] == conn["revision"]
    assert world.report() == {"accepted": [], "stale": [], "resend": [conn["id"]]}
    world.report(_entry(conn, "ACTIVE"))
    assert world.show(path)["status"] == "ACTIVE"


def test_status_reports_wake_no_long_poll_and_a_config_write_does(world: World) -> None:
    """docs/agent-protocol.md §state: the desired state's version leaves out
    status writes, which agents make many times a second while tunnels come
    up; each used to wake every waiting agent and rebuild their states."""
    conns = _more_connections(world, 2)
    watcher = world.agent_app.api.watcher
    before = watcher.current()
    world.report(*(_entry(c, "ACTIVE") for c in conns))
    world.report(_entry(conns[0], "DOWN"))
    assert _statuses(world)[conns[0]["id"]] == "DOWN"  # written, counters bumped
    assert watcher.current() == before
    world.update(f"/vpn/ikepolicies/{world.ikepolicy}", "ikepolicy", {"lifetime": {"value": 7200}})
    assert watcher.current() != before
