"""The access log line of each request, and the route labels of the request
metrics: what :class:`vpnaas.api.access.Observe` makes of requests to the
real application, in process."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from falcon import testing
from prometheus_client import CollectorRegistry

from vpnaas.api.access import MASK, Observe, mask_query
from vpnaas.app import Application, create_app
from vpnaas.db.tables import schema
from vpnaas.metrics.requests import RequestMetrics
from vpnaas.settings import Settings

PROJECT = "access-project"
PSK = "never-logged-0123456789"
LINE = re.compile(
    r"^\[(?P<rid>req-[0-9a-f-]+|-) (?P<project>\S+)\] (?P<remote>\S+) "
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/1\.1" '
    r"status: (?P<status>\d{3}) len: (?P<length>\d+|-) time: (?P<time>\d+\.\d{7})$"
)


def _app(tmp_path: Path, **overrides: object) -> Application:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/access.sqlite").with_overrides(
        **overrides
    )
    app = create_app(settings)
    schema().metadata.create_all(app.db.engine)
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[testing.TestClient]:
    app = _app(tmp_path)
    try:
        yield testing.TestClient(app)
    finally:
        app.db.dispose()


def _lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    found = []
    for record in caplog.records:
        if record.name == "vpnaas.access":
            match = LINE.match(record.getMessage())
            assert match, record.getMessage()
            found.append(match)
    return found


def test_access_log_one_line_per_request_with_id_project_status_length(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "vpnaas.access")
    listed = client.simulate_get(
        "/v2.0/vpn/ikepolicies", query_string="fields=id", headers={"X-Project-Id": PROJECT}
    )
    missing = client.simulate_delete(
        "/v2.0/vpn/ikepolicies/0b5a1f44", headers={"X-Project-Id": PROJECT}
    )
    first, second = _lines(caplog)
    assert first["rid"] == listed.headers["x-openstack-request-id"]
    assert first["project"] == PROJECT
    assert (first["method"], first["target"]) == ("GET", "/v2.0/vpn/ikepolicies?fields=id")
    assert (first["status"], first["length"]) == ("200", str(len(listed.content)))
    assert second["rid"] == missing.headers["x-openstack-request-id"]
    assert (second["method"], second["status"]) == ("DELETE", "404")
    assert second["target"] == "/v2.0/vpn/ikepolicies/0b5a1f44"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(f"psk={PSK}", id="plain"),
        pytest.param(f"name=a&psk={PSK}&fields=id", id="among-others"),
        pytest.param(f"ps%6B={PSK}", id="percent-encoded-name"),
        pytest.param(f"psk={PSK}&psk={PSK}x", id="repeated"),
    ],
)
def test_access_log_masks_the_psk_filter(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    caplog.set_level(logging.INFO, "vpnaas.access")
    answer = client.simulate_get(
        "/v2.0/vpn/ipsec-site-connections", query_string=query, headers={"X-Project-Id": PROJECT}
    )
    assert answer.status_code == 200  # ?psk= is a valid filter, and it ran
    (line,) = _lines(caplog)
    assert PSK not in caplog.text
    assert line["target"].count(MASK) == query.count(PSK)


@pytest.mark.parametrize(
    ("query", "masked"),
    [
        pytest.param("psk=s", "psk=***", id="value"),
        pytest.param("psk=", "psk=***", id="empty-value"),
        pytest.param("psk", "psk=***", id="no-equals"),
        pytest.param("psk+=s", "psk+=s", id="another-name"),
        pytest.param("name=psk&pskx=1", "name=psk&pskx=1", id="psk-as-a-value"),
        pytest.param("a=1&%70sk=s&b=2", "a=1&%70sk=***&b=2", id="encoded"),
    ],
)
def test_mask_query(query: str, masked: str) -> None:
    assert mask_query(query, frozenset({"psk"})) == masked


def test_access_log_off_writes_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "vpnaas.access")
    app = _app(tmp_path, access_log=False)
    try:
        assert testing.TestClient(app).simulate_get("/v2.0/vpn/ikepolicies").status_code == 200
    finally:
        app.db.dispose()
    assert _lines(caplog) == []


def test_request_metrics_label_the_route_template_never_the_path(tmp_path: Path) -> None:
    app = _app(tmp_path)
    registry = CollectorRegistry()
    observe = app.wsgi.app  # type: ignore[attr-defined]  # RequestId's inner app
    observe.record = RequestMetrics("vpnaas_api", registry)
    client = testing.TestClient(app)
    try:
        client.simulate_get("/v2.0/vpn/ikepolicies/7d3c2a1b")
        client.simulate_get("/v2.0/vpn/ikepolicies/9e9e9e9e")
        client.simulate_request("TRACE", "/v2.0/vpn/ikepolicies")
        client.simulate_get("/no/such/path/1234")
        client.simulate_get("/healthcheck")
    finally:
        app.db.dispose()
    samples = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in registry.collect()
        if family.name == "vpnaas_api_requests"
        for s in family.samples
        if s.name == "vpnaas_api_requests_total"
    }
    assert samples == {
        ("GET", "/v2.0/vpn/ikepolicies/{obj_id}", "404"): 2,
        ("other", "/v2.0/vpn/ikepolicies", "405"): 1,
        ("GET", "unmatched", "404"): 1,
        ("GET", "/healthcheck", "200"): 1,
    }


def test_an_exception_that_escapes_is_logged_and_counted_as_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "vpnaas.access")
    app = _app(tmp_path)
    app.db.dispose()
    observe = app.wsgi.app  # type: ignore[attr-defined]  # RequestId's inner app
    registry = CollectorRegistry()
    record = RequestMetrics("vpnaas_api", registry)

    def broken(environ: dict[str, object], start_response: object) -> list[bytes]:
        raise RuntimeError("escaped")

    failing = Observe(
        broken, log=observe.log, secrets={"psk"}, router=observe.router, record=record
    )
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v2.0/vpn/ikepolicies", "QUERY_STRING": ""}
    with pytest.raises(RuntimeError, match="escaped"):
        failing(environ, lambda *args: None)
    (line,) = _lines(caplog)
    assert (line["status"], line["length"], line["rid"], line["project"]) == ("500", "-", "-", "-")
    labels = {"method": "GET", "route": "/v2.0/vpn/ikepolicies", "status": "500"}
    assert registry.get_sample_value("vpnaas_api_requests_total", labels) == 1
