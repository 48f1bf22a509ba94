"""charon's retransmission settings and the DPD timeout they make."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpnaas.agent.charonconf import Retransmit, dpd_timeout, read_retransmit


def test_read_retransmit_settings_from_charon_section(tmp_path: Path) -> None:
    (tmp_path / "extra.d").mkdir()
    (tmp_path / "extra.d" / "x.conf").write_text("charon {\n  retransmit_base = 2.0\n}\n")
    conf = tmp_path / "strongswan.conf"
    conf.write_text(
        "# test\ncharon {\n  retransmit_timeout = 0.5  # fast\n  retransmit_tries = 2\n"
        "  plugins {\n    retransmit_tries = 9\n  }\n}\nother {\n  retransmit_tries = 7\n}\n"
        "include extra.d/*.conf\n"
    )
    assert read_retransmit(str(conf)) == Retransmit(timeout=0.5, tries=2, base=2.0)


def test_missing_file_means_strongswan_defaults(tmp_path: Path) -> None:
    assert read_retransmit(str(tmp_path / "none.conf")) == Retransmit()
    assert Retransmit().total() == pytest.approx(165.0, abs=0.5)


@pytest.mark.parametrize(
    ("version", "delay", "retransmit", "expected"),
    [
        pytest.param("v2", 2, Retransmit(2.0, 3), 25.7, id="lab-2s-x3"),
        pytest.param("v2", 2, Retransmit(1.0, 2), 8.0, id="lab-1s-x2"),
        pytest.param("v2", 2, Retransmit(0.5, 2), 5.0, id="lab-0.5s-x2"),
        pytest.param("v2", 2, Retransmit(4.0, 5, limit=10.0), 2 + 4 + 7.2 + 10 * 4, id="limit"),
        pytest.param("v1", 2, Retransmit(), 8.0, id="ikev1-uses-dpd-timeout"),
        pytest.param("v2", 0, Retransmit(), None, id="disabled"),
    ],
)
def test_effective_dpd_timeout(
    version: str, delay: int, retransmit: Retransmit, expected: float | None
) -> None:
    got = dpd_timeout(version, delay, 6, retransmit)
    assert got == (pytest.approx(expected, abs=0.1) if expected is not None else None)
