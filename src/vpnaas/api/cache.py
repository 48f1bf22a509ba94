"""Encoded read responses (lists, shows), reused while nothing they depend
on has changed.

An entry is keyed by everything that shapes a response (resource, id,
caller, query string, base URL) and remembers the write counters
(:meth:`vpnaas.db.repo.Repo.revisions`) of the resources it was built from
(:mod:`vpnaas.api.reads`) and the policy rules in force. A request reads
the current counters from the database first, so a write committed by any
worker or host invalidates every cached copy at once: read-your-writes
holds across workers. The cache is per process and bounded in bytes; least
recently used entries go first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["ResponseCache"]


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    body: bytes


class ResponseCache:
    """A bounded, thread-safe LRU map from request key to encoded body."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_entries: int = 1024) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> bytes | None:
        """The body stored for ``key`` if it was built at ``version``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(key)
            return entry.body

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
