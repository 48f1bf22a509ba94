"""What the agent API keeps between builds of desired states
(docs/decisions.md, "Desired states built from what changed").

A build of 1,000 connections, each with endpoint groups of its own, spent
most of its time reading 2,000 groups and encoding 1,000 connection
documents that had not changed since the last build. Each process keeps:

* the rows of endpoint groups and policies, valid while their resource's
  write counter stays where it was read before them;
* each connection's document, valid while its *stamp* is the same: the
  connection's row number (``row_revision``, which any write of the row
  moves, :mod:`vpnaas.db.revisions`), its service's admin state and
  subnet, its router's address and the counters of the resources its
  document is read from (:data:`MEMBERS`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["MEMBERS", "KeptRows"]

#: the resources besides connections, services and ports a connection's
#: document is read from: the rows kept here, and the subnets' CIDRs
MEMBERS = ("endpoint_group", "ikepolicy", "ipsecpolicy", "subnet")

Row = dict[str, Any]


class KeptRows:
    """Rows and connection documents of earlier builds (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: per resource: the counter its rows were read at, and the rows by id
        self.rows: dict[str, tuple[int, dict[str, Row]]] = {}
        #: per router: each connection's document and the stamp it was built at
        self.docs: dict[str, dict[str, tuple[Hashable, Row]]] = {}

    def by_id(
        self, member: str, ids: set[str], counter: int, read: Callable[[set[str]], dict[str, Row]]
    ) -> dict[str, Row]:
        """The rows ``ids`` of ``member``, whose write counter was read as
        ``counter`` before this call: the kept ones if they were read at
        that counter, the others by ``read`` now, and kept."""
        with self.lock:
            at, kept = self.rows.get(member, (counter, {}))
            have = kept if at == counter else {}
        found = {key: have[key] for key in ids if key in have}
        missing = ids - found.keys()
        if missing:
            fresh = read(missing)
            found.update(fresh)
            with self.lock:
                at, kept = self.rows.get(member, (counter, {}))
                if at != counter:  # another counter's rows: these replace them
                    kept = {}
                self.rows[member] = (counter, {**kept, **fresh})
        return found

    def doc(self, router: str, conn_id: str, stamp: Hashable) -> Row | None:
        """The document of ``conn_id`` if it was built at ``stamp``."""
        with self.lock:
            found = self.docs.get(router, {}).get(conn_id)
        return found[1] if found is not None and found[0] == stamp else None

    def keep(self, router: str, docs: dict[str, tuple[Hashable, Row]], *, every: bool) -> None:
        """Keep ``docs`` of ``router``'s connections; with ``every``, they are
        all its connections now (the others were deleted: forgotten)."""
        with self.lock:
            if every:
                self.docs[router] = dict(docs)
            else:
                self.docs.setdefault(router, {}).update(docs)
