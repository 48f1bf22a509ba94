"""The vpnaas command: database management and the policy sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpnaas.cli import main


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
    head = capsys.readouterr().out.strip()
    assert head != "none"
    assert main(["db", "downgrade", "--database-url", url]) == 0
    assert main(["db", "current", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip() not in (head, "")


@pytest.mark.parametrize("flag", ["--workers", "--threads"])
@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_serve_refuses_counts_below_one(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", flag, value])
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err
