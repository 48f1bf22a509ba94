"""What an answer about a resource is built from: the resources whose rows
it reads, derived from the code that reads them.

A list or show of ``member`` reads the member's own table, whatever its
visibility rule's SQL condition reads (found in the condition itself), and
whatever the filters and loaders registered for it declare they read
(:class:`vpnaas.db.query.Hooks`). Reading another resource may mean reading
what that one's answers read, so the set is closed over those declarations.
A cached answer is valid while the write counters of this set are unchanged
(:mod:`vpnaas.api.cache`); ``tests/functional/test_cache_coherence.py``
checks every statement a read runs against it.
"""

from __future__ import annotations

from collections.abc import Mapping

from vpnaas.context import RequestContext
from vpnaas.db.query import Hooks
from vpnaas.db.tables import Schema
from vpnaas.hooks import ResourceRules
from vpnaas.spec import Catalog, Resource

__all__ = ["direct_reads", "read_sets"]

#: any caller a visibility rule applies to: which tables a rule's condition
#: reads does not depend on who asks, only the values compared do
_PROBE = RequestContext(project_id="probe", user_id="probe")


def direct_reads(
    res: Resource, schema: Schema, rules: ResourceRules | None, hooks: Hooks
) -> set[str]:
    """The resources a read of ``res`` touches itself (its own rows included)."""
    found = {res.member, *hooks.reads_of(res.member)}
    if rules is not None:
        clause = rules.visibility(_PROBE, schema, res)
        if clause is not None:
            found |= schema.members_read_by(clause)
    return found


def read_sets(
    cat: Catalog, schema: Schema, rules: Mapping[str, ResourceRules], hooks: Hooks
) -> dict[str, tuple[str, ...]]:
    """Per resource, the sorted closure of :func:`direct_reads`."""
    direct = {
        res.member: direct_reads(res, schema, rules.get(res.member), hooks) for res in cat.resources
    }
    closed: dict[str, tuple[str, ...]] = {}
    for member in direct:
        seen: set[str] = set()
        todo = [member]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(direct.get(current, ()))
        closed[member] = tuple(sorted(seen))
    return closed
