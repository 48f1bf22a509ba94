"""charon's retransmission settings, read from its strongswan.conf, and the
DPD timeout they make.

IKEv2 ignores ``dpd_timeout``: a peer is declared dead when a DPD exchange
(sent ``dpd_delay`` after the last traffic) exhausts its retransmissions,
``retransmit_timeout · base^n`` for n = 0 … ``retransmit_tries`` (each
capped at ``retransmit_limit``). IKEv1 clears after ``dpd_timeout``. VICI
does not expose these settings, so the agent reads the file charon reads.

strongswan.conf is a tree of ``name { … }`` sections with ``key = value``
lines and ``include`` globs; only the ``charon`` section's top level is read.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Retransmit", "dpd_timeout", "read_retransmit"]


@dataclass(frozen=True)
class Retransmit:
    """charon's retransmission settings (strongSwan's defaults)."""

    timeout: float = 4.0
    tries: int = 5
    base: float = 1.8
    limit: float = 0.0

    def total(self) -> float:
        """Seconds from the first send of a request until charon gives up."""
        total = 0.0
        for n in range(self.tries + 1):
            wait = self.timeout * self.base**n
            total += min(wait, self.limit) if self.limit > 0 else wait
        return total


def _lines(path: Path, depth: int = 0) -> list[str]:
    """The file's lines with ``include`` expanded (relative to the file)."""
    out: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return out
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("include ") and depth < 8:
            pattern = line.split(None, 1)[1].strip()
            full = pattern if os.path.isabs(pattern) else str(path.parent / pattern)
            for name in sorted(glob.glob(full)):
                out.extend(_lines(Path(name), depth + 1))
        elif line:
            out.append(line)
    return out


def _charon_settings(lines: list[str]) -> dict[str, str]:
    """``key = value`` pairs directly inside top-level ``charon { }``."""
    found: dict[str, str] = {}
    stack: list[str] = []
    for line in lines:
        if line.endswith("{"):
            stack.append(line[:-1].strip())
        elif line == "}":
            if stack:
                stack.pop()
        elif "=" in line and stack == ["charon"]:
            key, value = (part.strip() for part in line.split("=", 1))
            found[key] = value
    return found


def read_retransmit(path: str | None) -> Retransmit:
    """The retransmission settings of the strongswan.conf at ``path``
    (strongSwan's defaults for whatever it does not set)."""
    if not path:
        return Retransmit()
    found = _charon_settings(_lines(Path(path)))
    default = Retransmit()
    return Retransmit(
        timeout=float(found.get("retransmit_timeout", default.timeout)),
        tries=int(found.get("retransmit_tries", default.tries)),
        base=float(found.get("retransmit_base", default.base)),
        limit=float(found.get("retransmit_limit", default.limit)),
    )


def dpd_timeout(
    ike_version: str, dpd_delay: int, dpd_timeout_v1: int, retransmit: Retransmit
) -> float | None:
    """Seconds after the last sign of life until a dead peer is acted on
    (None when DPD is off)."""
    if dpd_delay <= 0:
        return None
    if ike_version == "v1":
        return float(dpd_delay + dpd_timeout_v1)
    return round(dpd_delay + retransmit.total(), 1)
