"""What the strongswan driver's checks compare a connection with: the other
connections of its router (docs/decisions.md, "What the strongswan driver
refuses", "IKE groups" and "The router's connections, kept per process").

A create must not cost more as its router grows, yet the checks compare
the new connection with every other one of the router. So each process
keeps, per router, what the checks read of those connections (their
service, peer CIDRs, IKE-group identity and group settings; a psk only as
a keyed digest), and a check brings it up to date inside its own
transaction: it reads the connections' write counters, then only the
router's connections numbered above the counter the copy was read at (or
not numbered yet, which the copy never keeps). A delete leaves no row to
read: when the deletes counter moved, the router is read whole again. The
values handed out in commit order (:mod:`vpnaas.db.revisions`) make the
copy equal to a fresh read of the committed rows; a transaction whose
snapshot is older than the copy reads what it needs itself.

The rules decide from these values in the order a full read gives (service
id, then connection id), so the errors and their bodies are those of a
comparison with every connection.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import hmac
import ipaddress
import secrets
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vpnaas.db.revisions import deletes_of
from vpnaas.db.statements import Statement
from vpnaas.hooks import RuleEnv

__all__ = [
    "Router",
    "Secret",
    "Sibling",
    "Siblings",
    "Span",
    "Wanted",
    "combo",
    "differs",
    "span",
]

CONNECTION = "ipsec_site_connection"
#: ``(version, first, last)`` address of a CIDR as integers
Span = tuple[int, int, int]
#: peer address, peer id, local id and group settings of a sibling
Combo = tuple[str, str, str | None, tuple[Any, ...]]


@functools.lru_cache(maxsize=65536)
def span(cidr: str) -> Span:
    """``cidr``'s :data:`Span` (the same strings come again and again)."""
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


@dataclass(frozen=True)
class Secret:
    """A secret setting of a sibling: the digest of its seal, or (stored in
    clear) its digest under this process's key."""

    sealed: bool
    digest: str


@dataclass(frozen=True)
class Wanted:
    """A secret setting of the connection checked: its digest under this
    process's key, and the digests of its seal under each sealing key."""

    clear: str
    sealed: frozenset[str]


@dataclass(frozen=True)
class Sibling:
    """What the checks read of one connection of the router."""

    id: str
    service_id: str
    peer_address: str
    peer_id: str
    local_id: str | None
    cidrs: tuple[str, ...]
    spans: tuple[Span, ...]
    #: per group setting: its stored column values, or a :class:`Secret`
    settings: tuple[Any, ...]

    @property
    def order(self) -> tuple[str, str]:
        """Where a full read of the router puts it."""
        return (self.service_id, self.id)


def combo(s: Sibling) -> Combo:
    """What a sibling's IKE group and its agreement depend on."""
    return (s.peer_address, s.peer_id, s.local_id, s.settings)


def _count(counter: Counter[Any], key: Any, step: int) -> None:
    """Add ``step`` to ``key``'s count, dropping the key at zero."""
    left = counter[key] + step
    if left:
        counter[key] = left
    else:
        del counter[key]


@dataclass(frozen=True)
class Router:
    """The router's connections as one transaction sees them, with what
    makes the checks cheap: how many hold each :data:`Combo` (a group that
    agrees has one), and their peer CIDRs' spans, as a multiset and as the
    sorted first addresses of each IP version."""

    members: dict[str, Sibling]
    combos: Counter[Combo]
    spans: Counter[Span]
    firsts: dict[int, list[int]]

    @classmethod
    def of(cls, members: dict[str, Sibling]) -> Router:
        return cls({}, Counter(), Counter(), {}).merged(members)

    def merged(self, changed: dict[str, Sibling]) -> Router:
        """This one with ``changed`` added or replacing their old values."""
        if not changed:
            return self
        gone = [old for k in changed if (old := self.members.get(k)) is not None]
        return self._changed({**self.members, **changed}, gone, list(changed.values()))

    def without(self, sibling_id: str) -> Router:
        """This one without ``sibling_id`` (the connection being checked)."""
        old = self.members.get(sibling_id)
        if old is None:
            return self
        members = {k: v for k, v in self.members.items() if k != sibling_id}
        return self._changed(members, [old], [])

    def _changed(
        self, members: dict[str, Sibling], gone: list[Sibling], new: list[Sibling]
    ) -> Router:
        combos, spans = Counter(self.combos), Counter(self.spans)
        firsts = {version: list(starts) for version, starts in self.firsts.items()}
        for sibling, step in [*((s, -1) for s in gone), *((s, 1) for s in new)]:
            _count(combos, combo(sibling), step)
            for one in sibling.spans:
                _count(spans, one, step)
                starts = firsts.setdefault(one[0], [])
                if step > 0:
                    bisect.insort(starts, one[1])
                else:
                    del starts[bisect.bisect_left(starts, one[1])]
        return Router(members, combos, spans, firsts)

    def overlaps(self, cidr: Span) -> bool:
        """Whether a sibling's peer CIDR overlaps ``cidr``. CIDRs overlap
        only when one holds the other: a sibling's starts inside ``cidr``,
        or is one of the shorter prefixes over it."""
        version, first, last = cidr
        starts = self.firsts.get(version, [])
        at = bisect.bisect_left(starts, first)
        if at < len(starts) and starts[at] <= last:
            return True
        bits = 32 if version == 4 else 128
        prefix = bits - (last - first + 1).bit_length() + 1
        for shorter in range(prefix):
            host = (1 << (bits - shorter)) - 1
            if (version, first & ~host, first | host) in self.spans:
                return True
        return False


@dataclass(frozen=True)
class _Copy:
    number: int
    deletes: int
    router: Router


class Siblings:
    """Per router, the :class:`Sibling` of each of its connections; one per
    process (shared by its request threads), for ``settings``."""

    def __init__(self, settings: Sequence[str]) -> None:
        self.settings = tuple(settings)
        self._key = secrets.token_bytes(32)  # digests of clear psks, this process only
        self._lock = threading.Lock()
        self._routers: dict[str, _Copy] = {}

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def of(self, env: RuleEnv, router_id: str) -> Router:
        """The connections of ``router_id`` as this transaction sees them."""
        counters = dict(env.repo.revisions((CONNECTION, deletes_of(CONNECTION))))
        number, deletes = counters[CONNECTION], counters[deletes_of(CONNECTION)]
        with self._lock:
            known = self._routers.get(router_id)
        usable = known is not None and known.deletes == deletes and known.number <= number
        since = known.number if usable and known is not None else None
        numbered, unnumbered = self._read(env, router_id, since)
        if usable and known is not None:
            router = known.router.merged(numbered)
        else:
            router = Router.of(numbered)
        with self._lock:
            current = self._routers.get(router_id)
            if current is None or (deletes, number) >= (current.deletes, current.number):
                self._routers[router_id] = _Copy(number, deletes, router)
        return router.merged(unnumbered)

    def _read(
        self, env: RuleEnv, router_id: str, since: int | None
    ) -> tuple[dict[str, Sibling], dict[str, Sibling]]:
        """The router's connections numbered above ``since`` (all of them
        with None), and those not numbered yet."""
        stmt = env.repo.prepared(
            Statement.QUERY, "strongswan-siblings", (since is None, self.settings),
            lambda: _statement(env, self.settings, since is None),
        )  # fmt: skip
        params = {"router": router_id} if since is None else {"router": router_id, "since": since}
        rows = env.repo.conn.execute(stmt, params).all()
        own: dict[str, dict[str, None]] = {}  # in order, once each
        grouped: dict[str, dict[str, None]] = {}
        for row in rows:
            for found, cidr in ((own, row.cidr), (grouped, row.group_cidr)):
                if cidr is not None:
                    found.setdefault(row.id, {})[str(cidr)] = None
        numbered: dict[str, Sibling] = {}
        unnumbered: dict[str, Sibling] = {}
        for row in rows:
            if row.id in numbered or row.id in unnumbered:
                continue
            cidrs = tuple(own.get(row.id) or grouped.get(row.id) or ())
            sibling = Sibling(
                id=row.id,
                service_id=row.vpnservice_id,
                peer_address=row.peer_address,
                peer_id=row.peer_id,
                local_id=row.local_id,
                cidrs=cidrs,
                spans=tuple(span(c) for c in cidrs),
                settings=self._settings_of(env, row),
            )
            (unnumbered if row.row_revision is None else numbered)[row.id] = sibling
        return numbered, unnumbered

    def _settings_of(self, env: RuleEnv, row: Any) -> tuple[Any, ...]:
        res = env.res(CONNECTION)
        found: list[Any] = []
        for name in self.settings:
            fld = res.field(name)
            columns = env.schema.field_columns(res, fld)
            if fld.secret:
                clear, token, digest = (row._mapping[c.name] for c in columns)
                sealed = token is not None
                found.append(Secret(sealed, digest if sealed else self.digest(clear or "")))
            else:
                found.append(tuple(row._mapping[c.name] for c in columns))
        return tuple(found)

    def wanted(self, env: RuleEnv, conn: dict[str, Any]) -> tuple[Any, ...]:
        """``conn``'s group settings as :meth:`Sibling.settings` would hold
        them if it were stored in clear, and the digests of its psk sealed
        under each key: what :func:`differs` compares with."""
        res = env.res(CONNECTION)
        mine: list[Any] = []
        for name in self.settings:
            fld = res.field(name)
            if fld.secret:
                sealed = frozenset(env.repo.sealer.digests([conn[name]]))
                mine.append(Wanted(self.digest(conn[name]), sealed))
            else:
                mine.append(tuple(fld.kind.store(conn[name])))
        return tuple(mine)


def differs(stored: Any, mine: Any) -> bool:
    """Whether a sibling's stored setting is not ``mine`` (:meth:`Siblings.wanted`)."""
    if isinstance(stored, Secret):
        return stored.digest not in (mine.sealed if stored.sealed else {mine.clear})
    return bool(stored != mine)


def _statement(env: RuleEnv, settings: Sequence[str], whole: bool) -> Any:
    """The router's connections (numbered above ``:since`` or not numbered,
    unless ``whole``), one row per peer CIDR (its own, or its peer endpoint
    group's), by id and position."""
    res = env.res(CONNECTION)
    conns = env.schema.table(CONNECTION)
    services = env.schema.table("vpnservice")
    own = env.schema.child(CONNECTION, "peer_cidrs")
    group = env.schema.child("endpoint_group", "endpoints")
    revision = conns.c.row_revision
    setting_columns = [
        col for name in settings for col in env.schema.field_columns(res, res.field(name))
    ]
    where = [services.c.router_id == sa.bindparam("router")]
    if not whole:  # two ranges of the row_revision index, not the router's rows
        written = sa.union_all(
            sa.select(conns.c.id).where(revision > sa.bindparam("since")),
            sa.select(conns.c.id).where(revision.is_(None)),
        )
        where.append(conns.c.id.in_(written.scalar_subquery()))
    identity = (conns.c.peer_ep_group_id, conns.c.peer_address, conns.c.peer_id, conns.c.local_id)
    columns = (conns.c.id, conns.c.vpnservice_id, *identity, revision, *setting_columns)
    return (
        sa.select(*columns, own.values[0].label("cidr"), group.values[0].label("group_cidr"))
        .select_from(conns)
        .join(services, services.c.id == conns.c.vpnservice_id)
        .outerjoin(own.table, own.parent == conns.c.id)
        .outerjoin(group.table, group.parent == conns.c.peer_ep_group_id)
        .where(*where)
        .order_by(conns.c.id, own.position, group.position)
    )
