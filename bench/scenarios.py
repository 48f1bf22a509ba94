"""What a benchmark run measures: its figures, and the options it runs with.

A :class:`Figure` is one request to a vpnaas server paired with the ceiling
it is compared against (``bench/README.md``); :func:`figures` lists them
all, and :class:`Options` says how long and how often each is run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bench import seed

__all__ = [
    "CONNS",
    "FLOOR",
    "HEADERS",
    "LIST_SIZES",
    "Figure",
    "Options",
    "figures",
    "log",
    "target_of",
]

CONNS = "/v2.0/vpn/ipsec-site-connections"
HEADERS = (("X-Project-Id", seed.PROJECT),)
LIST_SIZES = (10, 100, 1000, 10000)
#: the server of the create floor (``bench.ceilings floor``, not vpnaas)
FLOOR = "floor"


@dataclass(frozen=True)
class Figure:
    """One measured figure: a request to a vpnaas server and its ceiling."""

    key: str
    label: str
    server: str  # a key of the vpnaas servers
    ceiling: str  # "static", "static2" (two workers) or "insert"
    method: str = "GET"
    target: str = CONNS
    body: str | None = None
    ids: str | None = None  # "update" or "delete": the request path takes ids in turn
    conns: tuple[int, ...] = (1, 8)


@dataclass
class Options:
    reps: int
    seconds: int
    warmup: int
    big: int
    delete_pool: int
    figures: list[str]
    workdir: Path
    keep: bool


def figures(big: int) -> list[Figure]:
    out = [Figure(f"list-{n}", f"list, N={n:,}", f"n{n}", "static") for n in LIST_SIZES]
    out += [
        Figure(
            "fields",
            "list fields=id,name, N=1,000",
            "n1000",
            "static",
            target=CONNS + "?fields=id&fields=name",
        ),
        Figure(
            "limit-1000",
            "list limit=100, N=1,000",
            "n1000",
            "static",
            target=CONNS + "?limit=100",
        ),
        Figure(
            "limit-big",
            f"list limit=100, N={big:,}",
            "big",
            "static",
            target=CONNS + "?limit=100",
        ),
        Figure("show", "show, N=1,000", "n1000", "static", target=CONNS + "/{show_id}"),
        Figure("create", "create", "write", "insert", method="POST", body="{create_body}"),
        Figure(
            "create-floor",
            "create: its SQL alone (floor)",
            FLOOR,
            "insert",
            method="POST",
            body="{create_body}",
        ),
        Figure(
            "update",
            "update",
            "write",
            "insert",
            method="PUT",
            ids="update",
            body='{"ipsec_site_connection": {"description": "updated by bench"}}',
        ),
        Figure("delete", "delete", "write", "insert", method="DELETE", ids="delete"),
        Figure("list-1000-2w", "list, N=1,000, 2 workers", "n1000x2", "static2"),
    ]
    return out


def target_of(fig: Figure, show_id: str) -> str:
    """The request target of ``fig``, with the shown connection's id."""
    return fig.target.replace("{show_id}", show_id)


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)
