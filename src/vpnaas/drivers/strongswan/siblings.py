"""What the strongswan driver's checks compare a connection with: the other
connections of its router (docs/decisions.md, "What the strongswan driver
refuses" and "IKE groups").

A create must not cost more as its router grows, so neither check loads
the other connections as objects: the overlap check asks for the bare
peer CIDRs that may overlap the new ones (by their text), and the IKE
group check for the members of the group that may disagree (none, as long
as the group agrees). Each answer is a superset of what the check looks
for; the rules decide from the values themselves, in the order a full
load gives (service id, then connection id), so the errors and their
bodies are those of a comparison with every connection.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa

from vpnaas.db.statements import Statement
from vpnaas.hooks import RuleEnv

__all__ = ["group_candidates", "peer_cidr_rows", "peer_cidrs_near"]

CONNECTION = "ipsec_site_connection"


def _on_router(env: RuleEnv, *columns: Any) -> Any:
    """``columns`` of the connections of ``:router``'s services but ``:me``."""
    conns = env.schema.table(CONNECTION)
    services = env.schema.table("vpnservice")
    return (
        sa.select(*columns)
        .select_from(conns)
        .join(services, services.c.id == conns.c.vpnservice_id)
        .where(services.c.router_id == sa.bindparam("router"), conns.c.id != sa.bindparam("me"))
    )


def _peer_cidrs(env: RuleEnv, ordered: bool, octets: int = 0) -> Any:
    """The peer CIDRs of the other connections: ``peer_cidrs``, or (when
    that is empty) the endpoints of the peer endpoint group. With
    ``octets``, only those that start with the ``:near`` pattern or whose
    prefix is shorter than those octets (``:short0``, ``:short1``, …:
    :func:`_shorter`)."""
    conns = env.schema.table(CONNECTION)
    own = env.schema.child(CONNECTION, "peer_cidrs")
    group = env.schema.child("endpoint_group", "endpoints")
    parts = []
    for child, parent, extra in (
        (own, conns.c.id, ()),
        (group, conns.c.peer_ep_group_id, (~sa.exists().where(own.parent == conns.c.id),)),
    ):
        keys = (conns.c.vpnservice_id, conns.c.id, child.position) if ordered else ()
        value = child.values[0]
        near = [value.like(sa.bindparam(f"short{n}")) for n in range(len(_shorter(8 * octets)))]
        near.append(value.like(sa.bindparam("near")))
        where = [*extra, sa.or_(*near)] if octets else extra
        parts.append(
            _on_router(env, *keys, value.label("cidr"))
            .join(child.table, child.parent == parent)
            .where(*where)
        )
    union = sa.union_all(*parts)
    if not ordered:
        return union
    rows = union.subquery()
    return sa.select(rows.c.id, rows.c.cidr).order_by(
        rows.c.vpnservice_id, rows.c.id, rows.c.position
    )


def _shorter(bits: int) -> list[str]:
    """``LIKE`` patterns that match the text of every CIDR with a prefix
    shorter than ``bits`` (and of a few more): ``%/_``, ``%/1_``, ``%/20``…"""
    patterns = ["%/_"] if bits else []
    for tens in range(1, (bits + 9) // 10):
        if 10 * tens + 9 < bits:
            patterns.append(f"%/{tens}_")
        else:
            patterns.extend(f"%/{tens}{units}" for units in range(bits - 10 * tens))
    return patterns


def peer_cidrs_near(env: RuleEnv, router_id: str, conn_id: str, cidr: str) -> list[str]:
    """The peer CIDRs of the router's other connections that may overlap
    ``cidr``, in no order: a superset, from the text of the CIDRs.

    Stored IPv4 CIDRs are written canonically: the address in dotted-quad
    form (host bits allowed), a slash and the prefix length in decimal
    (docs/api/common.md, "CIDRs"; a connection's peer group is of type
    ``cidr``, docs/api/ipsec-site-connections.md). One that overlaps an
    IPv4 ``cidr`` of prefix ``p`` either has a prefix of ``q >= 8k`` bits
    (``k = p // 8`` whole octets, at most 4), and then shares the first
    ``k`` octets and starts with their text, or a prefix shorter than
    ``8k``, which its text ends with (:func:`_shorter`); nothing else can
    overlap. An IPv6
    ``cidr`` is compared with all of them."""
    net = ipaddress.ip_network(cidr, strict=False)
    octets = min(net.prefixlen // 8, 4) if net.version == 4 else 0
    stmt = env.repo.prepared(
        Statement.QUERY,
        "strongswan-peer-cidrs",
        (False, octets),
        lambda: _peer_cidrs(env, False, octets),
    )
    params = {"router": router_id, "me": conn_id}
    if octets:
        text = ".".join(str(net.network_address).split(".")[:octets])
        params["near"] = text + ("/%" if octets == 4 else ".%")
        params.update({f"short{n}": p for n, p in enumerate(_shorter(8 * octets))})
    return list(env.repo.conn.scalars(stmt, params).all())


def peer_cidr_rows(env: RuleEnv, router_id: str, conn_id: str) -> list[tuple[str, str]]:
    """``(connection id, peer CIDR)`` of the router's other connections, by
    service id, connection id and position."""
    stmt = env.repo.prepared(
        Statement.QUERY, "strongswan-peer-cidrs", (True, 0), lambda: _peer_cidrs(env, True)
    )
    rows = env.repo.conn.execute(stmt, {"router": router_id, "me": conn_id})
    return [(str(row[0]), str(row[1])) for row in rows]


def _same(column: Any, name: str) -> Any:
    """``column`` holds the value of parameter ``name`` (NULL-safe). A string
    is compared with a character appended (the caller appends it to the
    value too): MySQL's collations ignore trailing spaces."""
    if isinstance(column.type, sa.String):
        return column.concat(".").is_not_distinct_from(sa.bindparam(name))
    return column.is_not_distinct_from(sa.bindparam(name))


def _group_stmt(env: RuleEnv, local: str, settings: tuple[str, ...]) -> Any:
    """The statement behind :func:`group_candidates`; ``local`` says how
    the local ids are compared: ``"empty"`` (the key's local id is
    ``None``), ``"either"`` (the router's address, or an empty local id)
    or ``"equal"``."""
    res = env.res(CONNECTION)
    conns = env.schema.table(CONNECTION)
    empty = sa.or_(conns.c.local_id.is_(None), conns.c.local_id == "")
    same_local = {
        "empty": empty,
        "either": sa.or_(conns.c.local_id == sa.bindparam("local"), empty),
        "equal": conns.c.local_id == sa.bindparam("local"),
    }[local]
    agree = []
    for name in settings:
        columns = env.schema.field_columns(res, res.field(name))
        if res.field(name).secret:  # in clear, or by the digest of its sealed value
            clear, token, digest = columns
            agree.append(
                sa.or_(
                    sa.and_(token.is_(None), _same(clear, clear.name)),
                    sa.and_(
                        token.is_not(None), digest.in_(sa.bindparam("digests", expanding=True))
                    ),
                )
            )
        else:
            agree.extend(_same(col, col.name) for col in columns)
    return (
        _on_router(env, conns.c.id)
        .where(
            conns.c.peer_address == sa.bindparam("peer_address"),
            conns.c.peer_id == sa.bindparam("peer_id"),
            same_local,
            sa.not_(sa.and_(*agree)),
        )
        .order_by(conns.c.vpnservice_id, conns.c.id)
    )


def group_candidates(
    env: RuleEnv,
    router_id: str,
    conn: dict[str, Any],
    address: str | None,
    settings: tuple[str, ...],
) -> list[str]:
    """Ids of the router's other connections that may share ``conn``'s IKE
    SA (same peer address, peer id and local id, an empty local id meaning
    the router's ``address``) and may differ from it in one of
    ``settings``, by service id and connection id. A superset: the caller
    compares each with ``conn`` itself."""
    res = env.res(CONNECTION)
    local = conn["local_id"] or address
    how = "empty" if local is None else "either" if local == address else "equal"
    stmt = env.repo.prepared(
        Statement.QUERY,
        "strongswan-ike-group",
        (how, settings),
        lambda: _group_stmt(env, how, settings),
    )
    params: dict[str, Any] = {
        "router": router_id,
        "me": conn["id"],
        "peer_address": conn["peer_address"],
        "peer_id": conn["peer_id"],
        "local": local,
    }
    for name in settings:
        fld = res.field(name)
        columns = env.schema.field_columns(res, fld)
        if fld.secret:
            params[columns[0].name] = conn[name] + "."
            params["digests"] = env.repo.sealer.digests([conn[name]])
            continue
        for col, value in zip(columns, fld.kind.store(conn[name]), strict=True):
            as_string = isinstance(col.type, sa.String) and value is not None
            params[col.name] = f"{value}." if as_string else value
    return list(env.repo.conn.scalars(stmt, params))
