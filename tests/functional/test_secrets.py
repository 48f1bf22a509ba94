"""The psk is a secret: never in a log line nor an error message, and with a
key never in the database file; keys rotate without the API noticing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from falcon import testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import matrix
from tests.support.keystone import render_ini
from vpnaas import wsgi
from vpnaas.app import Application, create_app
from vpnaas.cli import main
from vpnaas.db.secrets import Sealer, SecretKeyError, generate_key, sealed_length
from vpnaas.db.tables import schema
from vpnaas.settings import load

PSK = "TOP-SECRET-PSK-4f9c2a"
HEADERS = {"X-Project-Id": "secret-project"}
CONNECTIONS = "/v2.0/vpn/ipsec-site-connections"


class Api:
    """A test client that creates objects and returns their ids."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.client = testing.TestClient(app)

    def make(self, path: str, member: str, body: dict[str, object]) -> str:
        made = self.client.simulate_post(path, json={member: body}, headers=HEADERS)
        assert made.status_code == 201, made.text
        return str(made.json[member]["id"])

    def psks(self, query: str = "") -> dict[str, str]:
        got = self.client.simulate_get(f"{CONNECTIONS}{query}", headers=HEADERS)
        assert got.status_code == 200, got.text
        return {c["id"]: c["psk"] for c in got.json["ipsec_site_connections"]}

    def psk(self, conn_id: str) -> str:
        got = self.client.simulate_get(f"{CONNECTIONS}/{conn_id}", headers=HEADERS)
        assert got.status_code == 200, got.text
        return str(got.json["ipsec_site_connection"]["psk"])


def _service(api: Api, public: str) -> dict[str, object]:
    """A VPN service and two policies: what a connection needs besides its psk."""
    net = api.make("/v2.0/networks", "network", {})
    subnet = api.make(
        "/v2.0/subnets", "subnet", {"network_id": net, "cidr": "10.5.0.0/24", "ip_version": 4}
    )
    router = api.make("/v2.0/routers", "router", {"external_gateway_info": {"network_id": public}})
    added = api.client.simulate_put(
        f"/v2.0/routers/{router}/add_router_interface", json={"subnet_id": subnet}, headers=HEADERS
    )
    assert added.status_code == 200, added.text
    service = api.make(
        "/v2.0/vpn/vpnservices", "vpnservice", {"router_id": router, "subnet_id": subnet}
    )
    return {
        "vpnservice_id": service,
        "ikepolicy_id": api.make("/v2.0/vpn/ikepolicies", "ikepolicy", {}),
        "ipsecpolicy_id": api.make("/v2.0/vpn/ipsecpolicies", "ipsecpolicy", {}),
        "peer_address": "172.24.4.9",
        "peer_id": "p",
        "peer_cidrs": ["10.6.0.0/24"],
    }


def _connect(api: Api, base: dict[str, object], psk: str) -> str:
    return api.make(CONNECTIONS, "ipsec_site_connection", {**base, "psk": psk})


def _world(tmp_path: Path, keys: list[str]) -> tuple[Api, dict[str, object]]:
    sections = {"vpnaas": {"secret_key": ",".join(keys)}} if keys else {}
    app, public = matrix.serve(tmp_path, sections=sections)
    api = Api(app)
    return api, _service(api, public)


def _reopen(tmp_path: Path, keys: list[str]) -> Api:
    """The same database served with other keys."""
    ini = tmp_path / "reopen.conf"
    ini.write_text(
        render_ini(
            {
                "database": {"connection": f"sqlite:///{tmp_path / 'vpnaas.sqlite'}"},
                "oslo_policy": {"policy_file": str(tmp_path / "policy.yaml")},
                "vpnaas": {"secret_key": ",".join(keys)},
            }
        ),
        encoding="utf-8",
    )
    return Api(create_app(load([str(ini)])))


def _rotate(tmp_path: Path, keys: list[str]) -> int:
    ini = tmp_path / "rotate.conf"
    ini.write_text(render_ini({"vpnaas": {"secret_key": ",".join(keys)}}), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'vpnaas.sqlite'}"
    return main(["db", "rotate-key", "--database-url", url, "--config-file", str(ini)])


def _stored_bytes(api: Api, tmp_path: Path) -> bytes:
    """Every byte SQLite keeps for the database, write-ahead log included."""
    api.app.db.dispose()
    return b"".join(p.read_bytes() for p in tmp_path.glob("vpnaas.sqlite*"))


def test_the_psk_is_not_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    api, base = _world(tmp_path, [])
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
        try:
            conn = _connect(api, base, PSK)
            api.client.simulate_put(
                f"{CONNECTIONS}/{conn}",
                json={"ipsec_site_connection": {"psk": PSK + "-2"}},
                headers=HEADERS,
            )
            api.psks()
        finally:
            logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert any("INSERT INTO ipsec_site_connections" in r.getMessage() for r in caplog.records)
    assert PSK not in caplog.text


def test_without_a_key_psks_are_clear_and_start_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vpnaas.app"):
        api, base = _world(tmp_path, [])
    assert "stored in clear" in caplog.text
    conn = _connect(api, base, PSK)
    assert api.psk(conn) == PSK
    assert PSK.encode() in _stored_bytes(api, tmp_path)


def test_with_a_key_the_database_holds_no_psk_and_the_api_is_unchanged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vpnaas.app"):
        api, base = _world(tmp_path, [generate_key()])
    assert "stored in clear" not in caplog.text
    longest = "é" * 255
    first, second, third = (_connect(api, base, psk) for psk in (PSK, longest, PSK))
    assert api.psks() == {first: PSK, second: longest, third: PSK}
    assert api.psks(f"?psk={PSK}") == {first: PSK, third: PSK}
    assert api.psks("?psk=other&psk=" + longest) == {second: longest}
    assert api.psks(f"?psk={PSK}&fields=id&fields=psk") == {first: PSK, third: PSK}
    updated = api.client.simulate_put(
        f"{CONNECTIONS}/{third}",
        json={"ipsec_site_connection": {"psk": "new-" + PSK}},
        headers=HEADERS,
    )
    assert updated.json["ipsec_site_connection"]["psk"] == "new-" + PSK
    assert api.psk(third) == "new-" + PSK
    assert api.psks(f"?psk={PSK}") == {first: PSK}
    stored = _stored_bytes(api, tmp_path)
    assert PSK.encode() not in stored
    assert longest.encode() not in stored


def test_rotation_reads_old_rows_until_rotated_then_the_old_key_can_go(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    api, base = _world(tmp_path, [old])
    under_old = _connect(api, base, PSK)
    api.app.db.dispose()
    both = _reopen(tmp_path, [new, old])
    under_new = _connect(both, base, PSK + "-new")
    assert both.psks(f"?psk={PSK}") == {under_old: PSK}
    assert both.psks(f"?psk={PSK}-new") == {under_new: PSK + "-new"}
    both.app.db.dispose()
    assert _rotate(tmp_path, [new, old]) == 0
    only_new = _reopen(tmp_path, [new])
    assert only_new.psks() == {under_old: PSK, under_new: PSK + "-new"}
    assert only_new.psks(f"?psk={PSK}") == {under_old: PSK}
    assert PSK.encode() not in _stored_bytes(only_new, tmp_path)


def test_rotate_key_seals_psks_stored_in_clear(tmp_path: Path) -> None:
    api, base = _world(tmp_path, [])
    conn = _connect(api, base, PSK)
    assert PSK.encode() in _stored_bytes(api, tmp_path)
    key = generate_key()
    keyed = _reopen(tmp_path, [key])
    assert keyed.psks(f"?psk={PSK}") == {conn: PSK}
    keyed.app.db.dispose()
    assert _rotate(tmp_path, [key]) == 0
    after = _reopen(tmp_path, [key])
    assert after.psks(f"?psk={PSK}") == {conn: PSK}
    assert PSK.encode() not in _stored_bytes(after, tmp_path)


def test_a_key_that_opens_nothing_is_a_clean_503_and_rotate_refuses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api, base = _world(tmp_path, [generate_key()])
    conn = _connect(api, base, PSK)
    api.app.db.dispose()
    wrong = _reopen(tmp_path, [generate_key()])
    for path in (CONNECTIONS, f"{CONNECTIONS}/{conn}"):
        got = wrong.client.simulate_get(path, headers=HEADERS)
        assert got.status_code == 503, got.text
        assert got.json["NeutronError"]["type"] == "ServiceUnavailable"
        assert "cannot be decrypted" in got.json["NeutronError"]["message"]
    wrong.app.db.dispose()
    with caplog.at_level(logging.ERROR):
        assert _rotate(tmp_path, [generate_key()]) == 1
        assert _rotate(tmp_path, []) == 1
    assert "cannot be decrypted" in caplog.text
    assert "needs [vpnaas] secret_key" in caplog.text
    assert PSK not in caplog.text


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("not-a-key", id="not-base64"),
        pytest.param("c2hvcnQ=", id="too-short"),
    ],
)
def test_a_malformed_key_is_refused_without_echoing_it(tmp_path: Path, key: str) -> None:
    with pytest.raises(SecretKeyError, match="secret key 1 is not a Fernet key") as raised:
        matrix.serve(tmp_path, sections={"vpnaas": {"secret_key": key}})
    assert key not in str(raised.value)


def test_the_sealed_column_fits_the_longest_psk() -> None:
    longest = "\U0001f600" * 255  # 4 bytes each in UTF-8
    token = Sealer([generate_key()]).seal(longest)[1]
    assert token is not None
    assert len(token) == sealed_length(255)
    column = schema().table("ipsec_site_connection").c.psk_sealed
    assert column.type.length == sealed_length(255)  # type: ignore[attr-defined]


def test_the_wsgi_application_refuses_keys_that_open_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, base = _world(tmp_path, [generate_key()])
    _connect(api, base, PSK)
    api.app.db.dispose()
    _reopen(tmp_path, [generate_key()]).app.db.dispose()  # writes reopen.conf
    monkeypatch.setenv("VPNAAS_CONFIG_FILE", str(tmp_path / "reopen.conf"))
    with pytest.raises(SecretKeyError, match="cannot be decrypted") as refused:
        wsgi.make_application()
    assert PSK not in str(refused.value)


#: psks no connection accepts: too long, with a NUL, not a string at all
BAD_PSKS = st.one_of(
    st.text(min_size=256, max_size=600),
    st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=40), st.text(max_size=40)),
    st.integers(),
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=10), st.text(min_size=1, max_size=20), min_size=1),
)


def test_no_error_message_contains_a_refused_psk(tmp_path: Path) -> None:
    api, base = _world(tmp_path, [])
    conn = _connect(api, base, PSK)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(psk=BAD_PSKS)
    def refused(psk: object) -> None:
        for answer in (
            api.client.simulate_post(
                CONNECTIONS, json={"ipsec_site_connection": {**base, "psk": psk}}, headers=HEADERS
            ),
            api.client.simulate_put(
                f"{CONNECTIONS}/{conn}",
                json={"ipsec_site_connection": {"psk": psk}},
                headers=HEADERS,
            ),
        ):
            assert answer.status_code == 400, answer.text
            message = answer.json["NeutronError"]["message"]
            shown = psk if isinstance(psk, str) else json.dumps(psk)
            assert shown not in message
            assert str(psk) not in message

    refused()
