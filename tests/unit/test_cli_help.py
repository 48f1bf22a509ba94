"""``vpnaas --help`` and every subcommand's help are plain terminal text."""

from __future__ import annotations

import re

import pytest

from vpnaas.cli import main

#: reStructuredText or Markdown markup a terminal would print literally
MARKUP = re.compile(r"``|:[a-z]+:`|`_|\*\*|^\s*\.\. ", re.MULTILINE)


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _subcommands(top: str) -> list[str]:
    match = re.search(r"\{([a-z,-]+)\}", top)
    assert match is not None, top
    return match.group(1).split(",")


def test_help_top_level_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    top = _help(capsys)
    assert top.startswith("usage: vpnaas ")
    assert "OpenStack VPNaaS v2.0 API" in top
    assert not MARKUP.search(top), top


def test_help_every_subcommand_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _subcommands(_help(capsys))
    assert {"serve", "db", "policy"} <= set(commands)
    for command in commands:
        text = _help(capsys, command)
        assert text.startswith(f"usage: vpnaas {command} "), text
        assert not MARKUP.search(text), (command, text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The ``vpnaas`` command", id="double-backticks"),
        pytest.param("see :mod:`vpnaas.cli`", id="role"),
        pytest.param("  .. note:: x", id="directive"),
    ],
)
def test_help_markup_pattern_finds_rest(text: str) -> None:
    assert MARKUP.search(text)
