"""The table of ``python -m bench.production`` and the bounds its figures imply.

A write invalidates every cached list, so each worker rebuilds the list of
1,000 once per write that lands while it is being read. From the figures of
one run, with ``t`` the time one rebuild takes (the uncached list at one
connection: vpnaas' own, or the ``rows`` ceiling's raw-driver rebuild; its
server CPU time when measured, else its wall time):

* b) with ``W`` writes a second a worker spends ``W * t`` of each second
  rebuilding, so cached lists keep at most ``1 - W * t`` of their rate;
* d) an update that lands while lists are being read is followed by one
  rebuild before the next update is served, so updates keep at most
  ``u / (u + t)`` of their rate alone (``u``: one update alone).

With vpnaas' ``t`` the bound predicts what the run measured; with the raw
ceiling's ``t`` it is the floor of any server that rebuilds whole lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.production import Cell

__all__ = ["bounds", "render"]


def render(todo: list[Cell]) -> str:
    lines = [
        "| figure | c | req/s | base req/s | ratio | target | server CPU ms/req, base |",
        "|---|---|---|---|---|---|---|",
    ]
    for cell in todo:
        target = f">= {cell.target:.2f}" if cell.target else "-"
        verdict = "" if not cell.target else (" pass" if cell.ratio >= cell.target else " FAIL")
        lines.append(
            f"| {cell.label} | {cell.conns} | {cell.median(cell.runs):,.1f}"
            f" | {cell.median(cell.bases):,.1f} | {cell.ratio:.3f} | {target}{verdict}"
            f" | {cell.median(cell.runs, 'cpu_ms'):.2f}, {cell.median(cell.bases, 'cpu_ms'):.2f} |"
        )
    return "\n".join(lines)


def _find(todo: list[Cell], key: str, db: str, conns: int) -> Cell | None:
    return next((c for c in todo if (c.key, c.db, c.conns) == (key, db, conns)), None)


def _cost(cell: Cell, runs: list[dict[str, Any]]) -> float:
    """Seconds one request of ``runs`` takes: the server's CPU time if measured, else wall."""
    if runs and all("cpu_ms" in r for r in runs):
        return cell.median(runs, "cpu_ms") / 1000
    return 1 / max(cell.median(runs), 1e-9)


def bounds(todo: list[Cell], writes_per_second: float) -> list[str]:
    """One line per database and bound (see the module's docstring), when measured."""
    out: list[str] = []
    for db in sorted({c.db for c in todo}):
        uncached = _find(todo, "uncached", db, 1)
        if uncached is None or not uncached.runs:
            continue
        rebuild = {
            "vpnaas": _cost(uncached, uncached.runs),
            "raw ceiling": _cost(uncached, uncached.bases),
        }
        for who, t in rebuild.items():
            line = (
                f"{db}, a rebuild by {who} {1000 * t:.1f} ms:"
                f" b) <= {max(0.0, 1 - writes_per_second * t):.2f}"
            )
            alone = _find(todo, "writes-reads", db, 1)
            if alone is not None and alone.bases:
                u = _cost(alone, alone.bases)
                line += f", d) <= {u / (u + t):.2f} (an update alone {1000 * u:.1f} ms)"
            out.append(line)
    return out
