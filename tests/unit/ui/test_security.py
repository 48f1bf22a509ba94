"""The console's cookie attributes and its same-origin rule."""

from __future__ import annotations

import falcon
import falcon.testing
import pytest

from vpnaas.ui.security import _same_origin, set_session_cookie


@pytest.mark.parametrize("secure", [pytest.param(True, id="https"), pytest.param(False, id="http")])
def test_session_cookie_is_httponly_strict_and_secure_when_configured(secure: bool) -> None:
    class Login:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            set_session_cookie(resp, "opaque-id", max_age=600, secure=secure)

    app = falcon.App()
    app.add_route("/ui/login", Login())
    result = falcon.testing.TestClient(app).simulate_get("/ui/login")
    header = result.headers["set-cookie"]
    parts = {p.strip().split("=")[0].lower() for p in header.split(";")}
    assert header.startswith("vpnaas_session=opaque-id")
    assert {"httponly", "samesite", "path", "max-age"} <= parts
    assert "SameSite=Strict" in header
    assert "Path=/ui/" in header
    assert ("secure" in parts) is secure


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        pytest.param({"Origin": "http://console.test"}, True, id="same-origin"),
        pytest.param({"Origin": "http://console.test:8080"}, False, id="other-port"),
        pytest.param({"Origin": "null"}, False, id="opaque-origin"),
        pytest.param({"Referer": "http://console.test/ui/connections"}, True, id="same-referer"),
        pytest.param({"Referer": "http://evil.test/ui/"}, False, id="other-referer"),
        pytest.param({}, False, id="neither"),
    ],
)
def test_unsafe_requests_must_name_this_origin(headers: dict[str, str], same: bool) -> None:
    env = falcon.testing.create_environ(host="console.test", method="POST", headers=headers)
    assert _same_origin(falcon.Request(env)) is same
