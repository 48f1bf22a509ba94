"""Cached lists brought up to date by the rows written since they were built.

A list without filters, ``fields``, sorting or paging (what clients poll)
is cached with its rows encoded one by one, in list order, and the write
counters it was read at (:class:`ListState`). When a write changes the
counters, the next request does not read the whole list again if the only
change can be followed row by row: it reads the rows whose ``row_revision``
is above the resource's counter the list reflects (and rows not yet
numbered), encodes those, and splices them in. Anything else is read in
full, as before: a delete (the resource's deletes counter moved), a write to
another resource the list reads (a loader's, a visibility rule's), another
policy. The key of the cache entry fixes the caller, so the scope and the
query cannot change under a kept state.

Why the rows above ``N`` are all that changed (``docs/decisions.md``,
"Lists kept up to date by rows"). A write transaction empties the
``row_revision`` of each row it writes and, just before its commit, bumps
the resource's counter and gives those rows the new value
(:mod:`vpnaas.db.revisions`). The counter row stays locked from the bump to
the commit (SQLite: one writer at a time), so the values are taken in commit
order: value ``N + 1`` is taken only once the transaction holding ``N`` has
committed, and a writer that took ``N`` cannot commit after a reader saw
``N + 1``. A build reads the counters first, then the rows (each statement
sees at least what the one before it saw): every transaction numbered at or
below the counter ``C`` it read is visible to its row reads, so the list
holds, for each row, a version at least as new as its last write numbered
``≤ C``. A later write of the row is numbered above ``C``, so the refresh
from ``C`` reads it; a new row is numbered above ``C`` too. A row numbered
``≤ C`` has not been written since, and its kept fragment is current.
Deletes leave no row to read: the refresh reads the deletes counter before
and after its rows, and reads the whole list if either differs from the
kept one, so a refreshed body is what a full read at its row snapshot gives.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.engine import Connection

from vpnaas.api import http, render
from vpnaas.context import RequestContext
from vpnaas.db.plans import Layout
from vpnaas.db.query import ListQuery, Scope
from vpnaas.db.repo import Repo
from vpnaas.db.revisions import deletes_of
from vpnaas.spec import Resource

if TYPE_CHECKING:
    from vpnaas.api.controller import Controller

__all__ = ["ListState", "Lists"]


@dataclass(frozen=True)
class ListState:
    """A cached list as rows: what the refresh starts from."""

    #: the counters the list reflects: the resources it reads and the
    #: deletes counter of its own, as the build read them
    counters: Mapping[str, int]
    #: the policy rules in force (``Authorizer.generation``)
    generation: Hashable
    #: the ids of the rows shown, in list order
    order: tuple[str, ...]
    #: each row shown, encoded
    fragments: Mapping[str, bytes]
    #: the CRC-32 of each fragment: the body's entity tag is taken from
    #: these, so a refresh does not read the whole body again to tag it
    sums: Mapping[str, int]


class Lists:
    """Lists of a controller kept as rows (see the module docstring)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def by_rows(self, res: Resource, q: ListQuery) -> bool:
        """Whether the list ``q`` is kept as rows: the whole list, read
        straight into its wire form."""
        return (
            self.controller.direct_lists
            and self.controller.schema.row_revision(res.member) is not None
            and q.fields is None
            and not q.filters
            and not q.sorts
            and not q.limit
        )

    def build(
        self,
        ctx: RequestContext,
        res: Resource,
        q: ListQuery,
        previous: object,
        found: Mapping[str, int],
    ) -> tuple[Hashable, bytes, ListState]:
        """The list's version (as ``Controller._version``), body and state:
        ``previous`` brought up to date when it can be, else read in full,
        from the write counters ``found`` (read by this request before any
        row: every write they count is visible to the row reads)."""
        c = self.controller
        deletes = deletes_of(res.member)
        read = c.counters.of((*c.read_sets[res.member], deletes), found)
        counters = dict(read)
        generation = c.authz.generation()
        layout = render.list_layout(res)
        scope = c.scope(ctx, res)

        def reads(conn: Connection) -> ListState:
            repo = c.repo(conn)
            if isinstance(previous, ListState) and _follows(
                previous, counters, generation, res.member
            ):
                state = self._refresh(ctx, repo, res, scope, layout, previous)
                # a delete committed meanwhile: read it all
                if repo.revisions((deletes,))[0][1] == counters[deletes]:
                    return ListState(counters, generation, state.order, state.fragments, state.sums)
            fragments = self._encoded(ctx, res, repo.page(res, q, scope, layout))
            return ListState(counters, generation, tuple(fragments), fragments, _sums(fragments))

        # statements of their own, no snapshot: the refresh reads the deletes
        # counter after its rows (docs/decisions.md, "Kept lists read without
        # a transaction")
        state = c.db.statements(reads)
        version = (tuple(pair for pair in read if pair[0] != deletes), generation)
        body = _body(res, state)
        http.etag.keep(body, _tag(res, state, len(body)))
        return version, body, state

    def _refresh(
        self,
        ctx: RequestContext,
        repo: Repo,
        res: Resource,
        scope: Scope,
        layout: Layout,
        old: ListState,
    ) -> ListState:
        """``old`` with the rows written since it was read, read again (a
        written row the caller no longer sees leaves the list)."""
        since = old.counters[res.member]
        if scope.clause is None:  # a written row stays in its project: read them at once
            objs = repo.rows_since(res, scope, layout, since)
            changed = [str(obj["id"]) for obj in objs]
        else:
            changed = repo.written_since(res, since)
            objs = repo.rows_by_id(res, scope, layout, sorted(changed)) if changed else []
        if not changed:
            return old
        encoded = self._encoded(ctx, res, objs)
        fragments, sums = dict(old.fragments), dict(old.sums)
        for key in changed:
            if key not in encoded:
                fragments.pop(key, None)
        fragments.update(encoded)
        sums.update(_sums(encoded))
        if len(fragments) != len(old.fragments) or not encoded.keys() <= old.fragments.keys():
            if encoded.keys() <= old.fragments.keys():  # rows left, none is new to the list
                order = tuple([key for key in old.order if key in fragments])
            else:
                order = tuple([key for key in repo.ordered_ids(res, scope) if key in fragments])
                fragments = {key: fragments[key] for key in order}
        else:
            order = old.order
        sums = {key: sums[key] for key in fragments} if len(sums) != len(fragments) else sums
        return ListState(old.counters, old.generation, order, fragments, sums)

    def _encoded(
        self, ctx: RequestContext, res: Resource, objs: list[dict[str, Any]]
    ) -> dict[str, bytes]:
        """The rows the caller may see, each encoded, by id (in ``objs``' order)."""
        shown = render.strip(res, self.controller.readable(ctx, res, objs))
        return {str(item["id"]): orjson.dumps(item) for item in shown}


def _follows(
    old: ListState, counters: Mapping[str, int], generation: Hashable, member: str
) -> bool:
    """Whether ``old`` can be brought to ``counters`` row by row: only
    ``member``'s own counter moved (not its deletes), same policy."""
    if old.generation != generation or old.counters.keys() != counters.keys():
        return False
    return all(
        counters[name] == number if name != member else counters[name] >= number
        for name, number in old.counters.items()
    )


def _body(res: Resource, state: ListState) -> bytes:
    """``{"<collection>": [...]}`` from the encoded rows: the bytes
    ``orjson.dumps`` gives for the whole document."""
    fragments = state.fragments
    rows = b",".join([fragments[key] for key in state.order])
    return b"{" + orjson.dumps(res.collection) + b":[" + rows + b"]}"


def _sums(fragments: Mapping[str, bytes]) -> dict[str, int]:
    return {key: zlib.crc32(data) for key, data in fragments.items()}


def _tag(res: Resource, state: ListState, length: int) -> str:
    """The body's strong entity tag, from its collection, its length and
    the checksums of its rows in order: equal bodies get equal tags in every
    process, and any change to a row changes its checksum. A checksum of the
    checksums costs microseconds where one over the whole body cost 0.6 ms
    at 1,000 rows, once per write in each process."""
    sums = state.sums
    summary = res.collection.encode() + array("I", [sums[key] for key in state.order]).tobytes()
    return f'"{zlib.crc32(summary):08x}{zlib.adler32(summary):08x}-{length:x}"'
