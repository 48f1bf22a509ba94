"""Reporting: each figure's medians and ratio against its target, as a
Markdown table and as the records of the JSON result (``bench/README.md``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Cell
from bench.servers import ROOT

__all__ = ["RESULTS", "Row", "render", "save", "table"]

RESULTS = ROOT / "bench" / "results"
RSS_LIMIT_MIB = 150.0


@dataclass
class Row:
    figure: str
    body: str
    conns: str
    rps: str
    ceiling: str
    ratio: str
    target: str
    result: str


def table(
    cells: list[Cell], memory: dict[str, Any] | None, body_bytes: dict[str, int]
) -> tuple[list[Row], list[dict[str, Any]]]:
    """The table's rows and the JSON records, a cell each (and the memory row)."""
    rows: list[Row] = []
    out: list[dict[str, Any]] = []
    for cell in cells:
        text, ok = _target_for(cell, cells)
        rows.append(_row(cell, text, ok, body_bytes))
        out.append(_record(cell, text, ok))
    if memory is not None:
        worker = memory["worker_rss_mib"]
        rows.append(
            Row(
                "server RSS after limit=100 runs, big N",
                "-",
                "-",
                f"worker {worker:.0f} MiB (peak {memory['worker_peak_mib']:.0f})",
                f"all {memory['total_rss_mib']:.0f} MiB",
                "-",
                f"worker < {RSS_LIMIT_MIB:.0f} MiB",
                _verdict(worker < RSS_LIMIT_MIB),
            )
        )
    return rows, out


def render(rows: list[Row]) -> str:
    """The rows as a Markdown table under its header."""
    head = Row("figure", "body", "c", "req/s", "ceiling req/s", "ratio", "target", "result")
    cells = [dataclasses.astuple(r) for r in [head, *rows]]
    widths = [max(len(v) for v in col) for col in zip(*cells, strict=True)]
    lines = []
    for i, vals in enumerate(cells):
        lines.append(
            "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)) + " |"
        )
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def save(result: dict[str, Any]) -> Path:
    """Write the run's result as ``bench/results/<when>.json``; its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{result['when']}.json"
    path.write_text(json.dumps(result, indent=1))
    return path


# --- targets -------------------------------------------------------------------


def _target_for(cell: Cell, cells: list[Cell]) -> tuple[str, bool | None]:
    """The figure's target in words, and whether it was met (None: no target)."""
    key, conns = cell.figure.key, cell.conns
    if key in ("list-10", "list-1000", "create"):
        return "ratio >= 0.50", cell.ratio >= 0.5
    relative: dict[str, tuple[str, float, str]] = {
        "fields": ("list-1000", 1.05, "> list N=1,000"),
        "limit-big": ("limit-1000", 0.5, ">= 0.5x limit N=1,000"),
        "list-1000-2w": ("list-1000", 1.6, ">= 1.6x 1 worker"),
    }
    if key not in relative or (key == "list-1000-2w" and conns == 1):
        return "", None
    other_key, factor, text = relative[key]
    other = _find(cells, other_key, conns)
    if other is None or not other.median():
        return f"{text} (not measured)", None
    times = cell.median() / other.median()
    context = ""
    if key == "list-1000-2w" and other.median("ceiling_runs"):
        scale = cell.median("ceiling_runs") / other.median("ceiling_runs")
        context = f" (ceiling {scale:.2f}x)"
    return f"{text}: {times:.2f}x{context}", times >= factor


def _find(cells: list[Cell], key: str, conns: int) -> Cell | None:
    return next((c for c in cells if c.figure.key == key and c.conns == conns), None)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "FAIL")


# --- a cell's row and record ---------------------------------------------------


def _row(cell: Cell, text: str, ok: bool | None, body_bytes: dict[str, int]) -> Row:
    err = f" ({cell.errors} errors)" if cell.errors else ""
    key = cell.figure.key
    return Row(
        cell.figure.label,
        f"{body_bytes[key] / 1024:,.1f} KiB" if key in body_bytes else "-",
        str(cell.conns),
        f"{cell.median():,.1f}{err}",
        f"{cell.median('ceiling_runs'):,.1f}",
        f"{cell.ratio:.3f}",
        text,
        _verdict(ok) if text else "",
    )


def _record(cell: Cell, text: str, ok: bool | None) -> dict[str, Any]:
    ceiling = cell.median("ceiling_runs")
    return {
        "figure": cell.figure.key,
        "label": cell.figure.label,
        "concurrency": cell.conns,
        "ceiling": cell.figure.ceiling,
        "median_rps": round(cell.median(), 2),
        "median_ceiling_rps": round(ceiling, 2),
        "ratio": round(cell.ratio, 4),
        "ratio_of_medians": round(cell.median() / ceiling if ceiling else 0.0, 4),
        "paired_ratios": [
            round(r["rps"] / c["rps"], 4) if c["rps"] else None
            for r, c in zip(cell.runs, cell.ceiling_runs, strict=True)
        ],
        "target": text,
        "pass": ok,
        "runs": cell.runs,
        "ceiling_runs": cell.ceiling_runs,
    }
