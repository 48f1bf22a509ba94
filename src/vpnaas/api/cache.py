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
could have seen: read-your-writes is kept."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

__all__ = ["ResponseCache"]


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    body: bytes


@dataclass
class _Flight:
    """A body being built: the waiters' event, and the body once built."""

    done: threading.Event = field(default_factory=threading.Event)
    body: bytes | None = None


#: how a miss is filled: the counters the body was built from, and the body
Builder = Callable[[], tuple[Hashable, bytes]]


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

    def _fill(self, key: Hashable, builder: Builder) -> bytes:
        built, body = builder()
        self.put(key, built, body)
        return body

    def put(self, key: Hashable, version: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = _Entry(version, body)
            self._bytes += len(body)
            while self._entries and (
                self._bytes > self.max_bytes or len(self._entries) > self.max_entries
            ):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def __len__(self) -> int:
        return len(self._entries)
