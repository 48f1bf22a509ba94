"""One generic repository: read and write any resource through its tables.

:class:`Repo` is the reads (:mod:`vpnaas.db.reads`), the paged lists
(:mod:`vpnaas.db.paging`) and the writes with their counters
(:mod:`vpnaas.db.writes`) over one connection, and it runs the
resource-specific loaders of :class:`vpnaas.db.query.Hooks`. What callers
pass in (queries, scopes, hooks) is in :mod:`vpnaas.db.query`.
"""

from __future__ import annotations

from typing import Any

from vpnaas.db.paging import Pager
from vpnaas.db.writes import Writer
from vpnaas.spec import Field, Resource

__all__ = ["Repo"]


class Repo(Pager, Writer):
    """Generic reads and writes over one connection (one transaction)."""

    def run_loaders(self, res: Resource, wanted: list[Field], objs: list[dict[str, Any]]) -> None:
        for loader in self.loaders_of(res, wanted):
            loader.load(self, objs)
