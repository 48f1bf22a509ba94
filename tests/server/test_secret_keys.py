"""``vpnaas serve`` refuses to start, with one clear line, when its keys do
not open the psks the database holds; it never serves them as 500s."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.test_secrets import PSK, Api, _connect, _service
from tests.support import matrix
from tests.support.server import ServerError, start_server
from vpnaas.cli import main
from vpnaas.db.secrets import generate_key

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "keys",
    [pytest.param([generate_key()], id="wrong-key"), pytest.param([], id="no-key")],
)
def test_serve_refuses_keys_that_open_nothing(tmp_path: Path, keys: list[str]) -> None:
    assert main(["db", "upgrade", "--database-url", f"sqlite:///{tmp_path / 'vpnaas.sqlite'}"]) == 0
    app, public = matrix.serve(tmp_path, sections={"vpnaas": {"secret_key": generate_key()}})
    api = Api(app)
    _connect(api, _service(api, public), PSK)
    app.db.dispose()
    config = {"vpnaas": {"secret_key": ",".join(keys)}}
    with pytest.raises(ServerError) as failed:
        start_server(tmp_path / "serve", config=config, args=_same_db(tmp_path), attempts=1)
    log = str(failed.value)
    assert "cannot serve:" in log
    assert "cannot be decrypted" in log or "no [vpnaas] secret_key is set" in log
    assert "Traceback" not in log
    assert PSK not in log
    for key in keys:
        assert key not in log


def _same_db(tmp_path: Path) -> tuple[str, ...]:
    return ("--database-url", f"sqlite:///{tmp_path / 'vpnaas.sqlite'}")
