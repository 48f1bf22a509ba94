"""The write counters as a request sees them: one read serves every request
thread of a worker that waits for it.

Every cached answer first reads the write counters (:mod:`vpnaas.api.cache`),
so that a write committed by any worker or host before the request arrived
invalidates what it depends on. On a database server that read is a round
trip; when several request threads need it at once, :class:`Coalesced` sends
one read for all of them, like a database's group commit. Read-your-writes
holds because a request only takes the answer of a read *sent after it
arrived*: a read already in flight when it arrives may have started before
a write the client saw commit, so the request waits for that read to end and
joins the next one, which one of the waiting threads sends.

:class:`Counters` reads every counter in one statement (the table holds one
row per resource), so lists and shows of all resources share each read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

from vpnaas import errors
from vpnaas.db.engine import Database
from vpnaas.db.revisions import all_revisions_query
from vpnaas.db.tables import Schema

__all__ = ["Coalesced", "Counters"]

T = TypeVar("T")


class Coalesced(Generic[T]):
    """``read`` shared by the threads that call at the same time; each gets
    the result of a call that began after its own call did.

    Reads are numbered as they are sent. A caller arriving when ``sent``
    reads have been sent needs read ``sent + 1`` or a later one; it waits
    while another read is in flight, then either finds that a read it needs
    has ended (and takes its result) or sends the next read itself.
    """

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._ended = threading.Condition(threading.Lock())
        self._sent = 0  # reads begun so far; the last one is in flight while _busy
        self._done = 0  # the number of the last read that ended
        self._busy = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def __call__(self) -> T:
        with self._ended:
            needed = self._sent + 1
            while self._done < needed:
                if not self._busy:
                    self._busy = True
                    self._sent += 1
                    number = self._sent
                    break
                self._ended.wait()
            else:
                return self._outcome()
        value: T | None = None
        error: BaseException | None = None
        ended = False
        try:
            value = self._read()
            ended = True
        except Exception as exc:
            error, ended = exc, True
            raise
        finally:
            if not ended:  # interrupted (KeyboardInterrupt, SystemExit)
                error = errors.HTTPInternalServerError()
            with self._ended:
                self._busy = False
                self._done = number
                self._value, self._error = value, error
                self._ended.notify_all()
        return value

    def _outcome(self) -> T:
        """The result of the last read that ended (the caller holds the lock):
        its value, or its error raised afresh in this thread."""
        error = self._error
        if error is None:
            return self._value  # type: ignore[return-value]
        if isinstance(error, errors.ApiError):
            raise type(error)(**error.kwargs) from error
        raise errors.HTTPInternalServerError() from error


class Counters:
    """Every write counter of ``db``, read once per wave of requests
    (:class:`Coalesced`) or, with ``coalesce`` off, once per request."""

    def __init__(self, db: Database, schema: Schema, *, coalesce: bool | None = None) -> None:
        self.db = db
        self.sql = all_revisions_query(schema)
        if coalesce is None:
            # SQLite reads in process, on one request thread by default:
            # nothing to share (docs/decisions.md, "Shared counter reads")
            coalesce = not db.is_sqlite
        #: shared reads run one at a time, so they keep their connection
        self._slot = db.slot() if coalesce else None
        self.read: Callable[[], Mapping[str, int]] = (
            Coalesced(self._fresh) if coalesce else self._fresh
        )

    def _fresh(self) -> Mapping[str, int]:
        rows = self.db.peek(self.sql, (), self._slot)
        return {str(member): int(number) for member, number in rows}

    def of(
        self, members: Iterable[str], found: Mapping[str, int] | None = None
    ) -> tuple[tuple[str, int], ...]:
        """The counters of ``members`` in the shape of
        :meth:`vpnaas.db.repo.Repo.revisions` (sorted, absent ones 0), from
        ``found`` (a :attr:`read` this request made) or a new read."""
        found = self.read() if found is None else found
        return tuple([(member, found.get(member, 0)) for member in sorted(set(members))])
