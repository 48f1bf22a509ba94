"""Statements built once per schema and reused with new parameters.

Building a SQLAlchemy Core statement costs several times more than running
it (docs/decisions.md, "Prepared statements"), so the repository, the write
counters and the status writer keep theirs here, each under a typed key.
Some keys carry a set of attribute names taken from a request (``fields=``,
the attributes an update changes), so the cache is bounded: the oldest
statement goes first (docs/decisions.md, "Bounded caches").
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["Statement", "StatementCache", "StatementKey"]

_T = TypeVar("_T")

#: statements kept per schema: every fixed one many times over
DEFAULT_SIZE = 1024


class Statement(enum.Enum):
    """What a cached statement does."""

    GET = "get"  # one row by id, for a set of attributes
    VALUE = "value"  # one column of one row
    IDS_BY = "ids-by"  # ids of the rows whose column equals a value
    INSERT = "insert"
    UPDATE = "update"  # a set of columns of one row
    DELETE = "delete"
    CHILDREN = "children"  # the items of one list attribute of one row
    INSERT_CHILDREN = "insert-children"
    DELETE_CHILDREN = "delete-children"
    SET_STATUS = "set-status"  # the status a driver reports
    BUMP = "bump"  # add one to write counters (per dialect)
    REVISIONS = "revisions"  # read write counters (plain SQL, per paramstyle)
    QUERY = "query"  # a fixed query of another layer, under a name of its own


#: a statement's kind, the resource (or dialect) it is for, and whatever
#: else shapes it (attribute names, a lock, a flag); a plain tuple, as one
#: is made and hashed for every statement a request runs
StatementKey = tuple[Statement, str, tuple[Hashable, ...]]


class StatementCache:
    """Built statements by key, at most ``size`` of them: past that, the
    oldest goes (a hit is one dictionary lookup; a statement used again
    after it went is built again, once).

    No lock: each step is one call on the dictionary, which the interpreter
    runs whole; two threads missing the same key both build it, and the
    second one's is kept (statements are immutable and equal).
    """

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._built: dict[StatementKey, Any] = {}

    def __len__(self) -> int:
        return len(self._built)

    def __contains__(self, key: StatementKey) -> bool:
        return key in self._built

    def get(
        self, kind: Statement, subject: str, shape: tuple[Hashable, ...], build: Callable[[], _T]
    ) -> _T:
        """The statement of this kind, subject and shape, built by ``build``
        the first time."""
        key = (kind, subject, shape)
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = build()
            while len(self._built) > self.size:
                try:
                    del self._built[next(iter(self._built))]
                except (KeyError, RuntimeError, StopIteration):  # another thread was first
                    break
        return found
