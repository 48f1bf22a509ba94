"""The vendored htmx is the file its record names: version and sha256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import vpnaas.ui

STATIC = Path(vpnaas.ui.__file__).parent / "static"


def record() -> dict[str, str]:
    text = (STATIC / "VENDORED.txt").read_text(encoding="utf-8")
    return dict(re.findall(r"^(name|version|file|sha256): (\S+)$", text, re.MULTILINE))


def test_vendored_htmx_matches_its_recorded_sha256() -> None:
    rec = record()
    data = (STATIC / rec["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == rec["sha256"]


def test_vendored_htmx_is_the_recorded_version() -> None:
    rec = record()
    assert rec["name"] == "htmx.org"
    text = (STATIC / rec["file"]).read_text(encoding="utf-8")
    assert f'version:"{rec["version"]}"' in text
