"""Encoded read responses (lists, shows), reused while nothing they depend
on has changed.

An entry is keyed by everything that shapes a response (resource, id,
caller, query string, base URL) and remembers the write counters
(:meth:`vpnaas.db.repo.Repo.revisions`) of the resources it was built from
(:mod:`vpnaas.api.reads`) and the policy rules in force. A request reads
the current counters from the database first, so a write committed by any
worker or host invalidates every cached copy at once: read-your-writes
holds across workers. The cache is per process and bounded in bytes; least
recently used entries go first.

:meth:`ResponseCache.build` adds single flight: when several threads miss
the same key at the same counters (a write invalidated a list that many
clients poll), one builds the body and the others wait for it instead of
building it again each. The waiters read the same counters before they
waited, so the body the builder read afterwards holds every write they
could have seen: read-your-writes is kept.

:meth:`ResponseCache.refresh` also keeps, beside a body, what its builder
needs to bring it up to date (a list's encoded rows, :mod:`vpnaas.api.lists`)
and hands that to the next builder of the same key."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

__all__ = ["Builder", "Refresher", "ResponseCache"]


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    body: bytes
    #: what the builder keeps to refresh the body from (None: nothing)
    state: object = None


@dataclass
class _Flight:
    """A body being built: the waiters' event, and the body once built."""

    done: threading.Event = field(default_factory=threading.Event)
    body: bytes | None = None


#: how a miss is filled: the counters the body was built from, and the body
Builder = Callable[[], tuple[Hashable, bytes]]
#: how a miss is filled from the state kept with the key's last body (None
#: when there is none): the counters, the body and the state to keep
Refresher = Callable[[object], tuple[Hashable, bytes, object]]


class ResponseCache:
    """A bounded, thread-safe LRU map from request key to encoded body."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_entries: int = 1024) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._flights: dict[tuple[Hashable, Hashable], _Flight] = {}

    def get(self, key: Hashable, version: Hashable) -> bytes | None:
        """The body stored for ``key`` if it was built at ``version``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(key)
            return entry.body

    def build(self, key: Hashable, version: Hashable, builder: Builder) -> bytes:
        """The body of ``key`` at ``version`` (the counters read just now):
        from the cache, from another thread building it at the same
        counters, or from ``builder`` (whose body is then kept)."""

        def refresher(_previous: object) -> tuple[Hashable, bytes, object]:
            built, body = builder()
            return built, body, None

        return self.refresh(key, version, refresher)

    def refresh(self, key: Hashable, version: Hashable, builder: Refresher) -> bytes:
        """:meth:`build`, with ``builder`` handed the state kept with the
        key's last body (at whatever version) and its new state kept."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                self._entries.move_to_end(key)
                return entry.body
            flight = self._flights.get((key, version))
            leader = flight is None
            if flight is None:
                flight = self._flights[(key, version)] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.body is not None:
                return flight.body
            return self._fill(key, builder)  # the builder failed: its error is ours to meet
        try:
            flight.body = self._fill(key, builder)
            return flight.body
        finally:
            with self._lock:
                del self._flights[(key, version)]
            flight.done.set()

    def _fill(self, key: Hashable, builder: Refresher) -> bytes:
        with self._lock:
            previous = self._entries.get(key)
        built, body, state = builder(None if previous is None else previous.state)
        self.put(key, built, body, state)
        return body

    def put(self, key: Hashable, version: Hashable, body: bytes, state: object = None) -> None:
        """Keep ``body`` (and ``state``, counted as large as the body: a
        list's encoded rows) for ``key`` at ``version``."""
        if _size(body, state) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= _size(old.body, old.state)
            self._entries[key] = _Entry(version, body, state)
            self._bytes += _size(body, state)
            while self._entries and (
                self._bytes > self.max_bytes or len(self._entries) > self.max_entries
            ):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= _size(evicted.body, evicted.state)

    def __len__(self) -> int:
        return len(self._entries)


def _size(body: bytes, state: object) -> int:
    return len(body) if state is None else 2 * len(body)
