"""list-sas → connection status, and the failure reasons read from
charon's log lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support import desired_state as ds
from vpnaas.agent import status
from vpnaas.agent.reconcile import Reconciler
from vpnaas.agent.routes import Routes
from vpnaas.ipsec.desired import parse_state
from vpnaas.spec.vpn import ACTIVE, DOWN, ERROR


def _ike(state: str, *children: tuple[str, str]) -> dict[str, Any]:
    return {
        "state": state,
        "child-sas": {
            f"{name}-{n}": {"name": name, "state": st} for n, (name, st) in enumerate(children)
        },
    }


@pytest.mark.parametrize(
    ("sas", "expected"),
    [
        pytest.param([_ike("ESTABLISHED", ("c1", "INSTALLED"))], (ACTIVE, None), id="installed"),
        pytest.param([_ike("ESTABLISHED")], (DOWN, status.CONNECTING), id="ike-sa-alone"),
        pytest.param([_ike("CONNECTING")], (DOWN, status.CONNECTING), id="connecting"),
        pytest.param(
            [_ike("ESTABLISHED", ("c1", "REKEYED"), ("c1", "INSTALLED"))],
            (ACTIVE, None),
            id="rekey",
        ),
        pytest.param(
            [_ike("REKEYED", ("c1", "INSTALLED")), _ike("ESTABLISHED", ("c1", "INSTALLED"))],
            (ACTIVE, None),
            id="ike-rekey",
        ),
        pytest.param(
            [_ike("CONNECTING", ("c1", "INSTALLED")), _ike("REKEYING")],
            (ACTIVE, None),
            id="ikev1-reauth-adopted",
        ),
        pytest.param([_ike("REKEYING", ("c1", "INSTALLED"))], (ACTIVE, None), id="ike-rekeying"),
        pytest.param(
            [_ike("DELETING", ("c1", "INSTALLED"))], (DOWN, status.CONNECTING), id="deleting"
        ),
        pytest.param(
            [_ike("REKEYED", ("c1", "INSTALLED"))], (DOWN, status.CONNECTING), id="rekeyed"
        ),
        pytest.param(
            [_ike("ESTABLISHED", ("c1", "DELETING"))],
            (DOWN, status.CONNECTING),
            id="child-deleting",
        ),
        pytest.param([], (DOWN, status.CONNECTING), id="nothing"),
    ],
)
def test_status_from_sas(sas: list[dict[str, Any]], expected: tuple[str, str | None]) -> None:
    got = status.status_of(enabled=True, initiator="bi-directional", children=["c1"], sas=sas)
    assert (got.status, got.reason) == expected


def test_every_expected_child_must_be_installed() -> None:
    sas = [_ike("ESTABLISHED", ("c1-0", "INSTALLED"))]
    got = status.status_of(
        enabled=True, initiator="bi-directional", children=["c1-0", "c1-1"], sas=sas
    )
    assert got.status == DOWN
    sas = [_ike("ESTABLISHED", ("c1-0", "INSTALLED"), ("c1-1", "INSTALLED"))]
    got = status.status_of(
        enabled=True, initiator="bi-directional", children=["c1-0", "c1-1"], sas=sas
    )
    assert got.status == ACTIVE


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"enabled": False}, (DOWN, status.ADMIN_DOWN), id="admin-down"),
        pytest.param({"initiator": "response-only"}, (DOWN, status.WAITING), id="waiting"),
        pytest.param(
            {"last_failure": status.CONFIG_REFUSED}, (ERROR, "config refused"), id="refused"
        ),
        pytest.param(
            {"last_failure": status.AUTH_FAILED}, (ERROR, "authentication failed"), id="auth"
        ),
        pytest.param(
            {"last_failure": status.NO_PROPOSAL}, (ERROR, "no proposal chosen"), id="proposal"
        ),
        pytest.param(
            {"last_failure": status.TS_UNACCEPTABLE},
            (ERROR, "traffic selectors unacceptable"),
            id="ts",
        ),
        pytest.param(
            {"last_failure": status.PEER_NOT_RESPONDING},
            (DOWN, "peer not responding"),
            id="dead-peer",
        ),
    ],
)
def test_status_without_sas(kwargs: dict[str, Any], expected: tuple[str, str | None]) -> None:
    args: dict[str, Any] = {
        "enabled": True,
        "initiator": "bi-directional",
        "children": ["c1"],
        "sas": [],
    }
    got = status.status_of(**{**args, **kwargs})
    assert (got.status, got.reason) == expected


def test_a_past_failure_does_not_hide_an_installed_child() -> None:
    sas = [_ike("ESTABLISHED", ("c1", "INSTALLED"))]
    got = status.status_of(
        enabled=True,
        initiator="bi-directional",
        children=["c1"],
        sas=sas,
        last_failure=status.AUTH_FAILED,
    )
    assert got.status == ACTIVE


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param("received AUTHENTICATION_FAILED notify error", status.AUTH_FAILED, id="auth"),
        pytest.param(
            "tried 1 shared key for '192.0.2.1' - '192.0.2.2', but MAC mismatched",
            status.AUTH_FAILED,
            id="mac",
        ),
        pytest.param("received NO_PROPOSAL_CHOSEN notify error", status.NO_PROPOSAL, id="proposal"),
        pytest.param(
            "received TS_UNACCEPTABLE notify, no CHILD_SA built", status.TS_UNACCEPTABLE, id="ts"
        ),
        pytest.param("giving up after 2 retransmits", status.PEER_NOT_RESPONDING, id="retransmits"),
        pytest.param("IKE_SA vpn-c1[1] established", None, id="success"),
    ],
)
def test_failure_reason_from_log_lines(line: str, reason: str | None) -> None:
    assert status.failure_reason(["initiating IKE_SA vpn-c1[1]", line]) == reason


def test_a_failure_is_an_error_from_its_second_attempt_on() -> None:
    rec = Reconciler("unix:///nowhere.vici", Routes(None))
    rec.record({"c1": status.NO_PROPOSAL})  # the peer may not be configured yet
    assert rec.failures["c1"] == status.CONNECTING
    rec.record({"c1": status.NO_PROPOSAL})
    assert rec.failures["c1"] == status.NO_PROPOSAL
    rec.record({"c1": None})
    assert "c1" not in rec.failures
    rec.record({"c1": status.PEER_NOT_RESPONDING})  # not an error: kept as the DOWN reason
    assert rec.failures["c1"] == status.PEER_NOT_RESPONDING


def test_a_router_without_external_address_is_down_and_not_loaded() -> None:
    doc = ds.connection(
        "c1", local="", peer="192.0.2.2", local_cidrs=["10.1.0.0/24"], peer_cidrs=["10.2.0.0/24"]
    )
    rec = Reconciler("unix:///nowhere.vici", Routes(None))
    rec.desired = parse_state(ds.state("r1", doc))
    got = rec.statuses([])["c1"]
    assert (got.status, got.reason) == (DOWN, "router has no external address")
    assert rec.statuses(None)["c1"].reason == "router has no external address"


LIST_SAS_IKE: dict[str, Any] = {
    "uniqueid": "4",
    "version": "2",
    "state": "ESTABLISHED",
    "local-host": "192.0.2.1",
    "local-port": "4500",
    "remote-host": "192.0.2.2",
    "remote-port": "4500",
    "initiator": "yes",
    "initiator-spi": "aa11",
    "responder-spi": "bb22",
    "nat-any": "yes",
    "encr-alg": "AES_CBC",
    "encr-keysize": "128",
    "integ-alg": "HMAC_SHA2_256_128",
    "prf-alg": "PRF_HMAC_SHA2_256",
    "dh-group": "MODP_2048",
    "established": "100",
    "rekey-time": "3000",
    "child-sas": {
        "c1-9": {
            "name": "c1",
            "uniqueid": "9",
            "state": "INSTALLED",
            "mode": "TUNNEL",
            "protocol": "ESP",
            "spi-in": "c0ffee01",
            "spi-out": "c0ffee02",
            "encr-alg": "AES_CBC",
            "encr-keysize": "128",
            "integ-alg": "HMAC_SHA2_256_128",
            "bytes-in": "840",
            "packets-in": "10",
            "bytes-out": "1680",
            "packets-out": "20",
            "install-time": "60",
            "rekey-time": "3180",
            "life-time": "3540",
            "local-ts": ["10.1.0.0/24"],
            "remote-ts": ["10.2.0.0/24"],
        },
        "other-3": {"name": "other", "uniqueid": "3", "state": "INSTALLED"},
    },
}


def test_the_telemetry_describes_the_sas_with_absolute_times() -> None:
    found = status.status_of(
        enabled=True,
        initiator="bi-directional",
        children=["c1"],
        sas=[LIST_SAS_IKE],
        dpd_timeout=7.5,
        mtu=1400,
    )
    tel = found.telemetry
    assert (tel["mtu"], tel["dpd_timeout"]) == (1400, 7.5)
    ike = tel["ike_sa"]
    assert ike["proposal"] == "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
    assert (ike["local_spi"], ike["remote_spi"]) == ("aa11", "bb22")
    assert ike["nat_t"] is True
    assert ike["version"] == 2
    established = datetime.strptime(ike["established_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - established).total_seconds() - 100) <= 2
    assert ike["rekey_at"] > ike["established_at"]
    (child,) = tel["child_sas"]  # only this connection's children
    assert child["uniqueid"] == "9"
    assert (child["bytes_in"], child["bytes_out"], child["packets_out"]) == (840, 1680, 20)
    assert child["proposal"] == "AES_CBC-128/HMAC_SHA2_256_128"
    assert child["installed_at"] > ike["established_at"]
    assert child["local_ts"] == ["10.1.0.0/24"]


def test_a_group_read_once_tells_each_connection_its_own_children() -> None:
    kids = [(f"c{n % 3}-{n // 3}", "INSTALLED") for n in range(9)]
    sas = [_ike("CONNECTING", ("c0-0", "INSTALLED")), _ike("ESTABLISHED", *kids)]
    group = status.GroupSAs.of(sas)
    for wanted in (["c0-0", "c0-1", "c0-2"], ["c2-2", "c1-0"], ["c1-1", "missing"]):
        once = status.status_of(
            enabled=True, initiator="bi-directional", children=wanted, sas=group
        )
        alone = status.status_of(enabled=True, initiator="bi-directional", children=wanted, sas=sas)
        assert once == alone
        names = [c["name"] for c in once.telemetry["child_sas"]]
        assert names == [n for n, _ in kids if n in wanted]  # in charon's order
    assert status.sas_by_group([{"g1": {"a": 1}}, {"g2": {"b": 2}}, {"g1": {"c": 3}}]) == {
        "g1": [{"a": 1}, {"c": 3}],
        "g2": [{"b": 2}],
    }
