"""The vpnaas command: database management and the policy sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from vpnaas.cli import _parser, api_loop, main
from vpnaas.db import migrate
from vpnaas.db.engine import create_engine
from vpnaas.db.secrets import Sealer
from vpnaas.settings import PoolOptions


def test_policy_sample_prints_every_rule_commented(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "sample"]) == 0
    out = capsys.readouterr().out
    assert (
        '#"create_ikepolicy": "(rule:admin_only) or (role:member and project_id:%(project_id)s)"'
        in out
    )
    assert '#"create_network:router:external": "rule:admin_only"' in out


def test_db_upgrade_check_downgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite"
    assert main(["db", "check", "--database-url", url]) == 1
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert main(["db", "check", "--database-url", url]) == 0
    assert "the database schema matches" in capsys.readouterr().out
    assert main(["db", "current", "--database-url", url]) == 0
    head = _scripts(url).get_current_head()
    assert capsys.readouterr().out.strip() == head
    assert main(["db", "downgrade", "--database-url", url]) == 0
    assert main(["db", "current", "--database-url", url]) == 0
    previous = _scripts(url).get_revision(head).down_revision
    assert capsys.readouterr().out.strip() == (previous or "none")


def _scripts(url: str) -> ScriptDirectory:
    engine = create_engine(url, PoolOptions())
    try:
        return ScriptDirectory.from_config(migrate.config(engine))
    finally:
        engine.dispose()


def test_generate_key_prints_a_key_the_server_takes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "generate-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert Sealer([key]).enabled


@pytest.mark.parametrize("flag", ["--workers", "--threads"])
@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_serve_refuses_counts_below_one(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", flag, value])
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err


def test_serve_no_response_cache_overrides_the_file_only_when_given() -> None:
    assert _parser().parse_args(["serve"]).response_cache is None
    assert _parser().parse_args(["serve", "--no-response-cache"]).response_cache is False


def test_the_front_runs_on_uvloop() -> None:
    # granian's uvloop extra is a dependency: the front costs less CPU on it
    # (docs/decisions.md, "Serving"); asyncio's loop is only a fallback
    assert api_loop() == "uvloop"
