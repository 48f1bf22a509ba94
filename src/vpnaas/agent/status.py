"""``list-sas`` → the status of each VPNaaS connection. Pure.

``ACTIVE`` only when, for every child the connection expects, an IKE SA
of its group that carries traffic (:data:`CARRYING`) holds an INSTALLED
child of that name (REKEYED, DELETING and other transient SAs are ignored;
an IKE SA alone never counts: charon keeps it when a child fails). Otherwise ``DOWN`` with a
reason, or ``ERROR`` when charon refused the configuration or the last
attempt failed for a reason that will not cure itself.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vpnaas.spec.vpn import ACTIVE, DOWN, ERROR

__all__ = [
    "ADMIN_DOWN",
    "CARRYING",
    "CONFIG_REFUSED",
    "CONNECTING",
    "ERROR_REASONS",
    "PEER_NOT_RESPONDING",
    "WAITING",
    "ConnStatus",
    "GroupSAs",
    "Selectors",
    "failure_reason",
    "group_sas",
    "logged_reason",
    "refused_peer",
    "refused_selectors",
    "sas_by_group",
    "selectors",
    "status_of",
]

ADMIN_DOWN = "admin down"
CONFIG_REFUSED = "config refused"
CONNECTING = "connecting"
WAITING = "waiting for peer"
PEER_NOT_RESPONDING = "peer not responding"
AUTH_FAILED = "authentication failed"
NO_PROPOSAL = "no proposal chosen"
TS_UNACCEPTABLE = "traffic selectors unacceptable"

#: reasons that will not cure themselves: reported as ERROR
ERROR_REASONS = frozenset({CONFIG_REFUSED, AUTH_FAILED, NO_PROPOSAL, TS_UNACCEPTABLE})

#: charon log fragments → reason, first match wins
_LOG_REASONS = (
    ("AUTHENTICATION_FAILED", AUTH_FAILED),
    ("MAC mismatched", AUTH_FAILED),
    ("no shared key found", AUTH_FAILED),
    ("NO_PROPOSAL_CHOSEN", NO_PROPOSAL),
    ("proposals unacceptable", NO_PROPOSAL),
    ("no acceptable proposal", NO_PROPOSAL),
    ("TS_UNACCEPTABLE", TS_UNACCEPTABLE),
    ("giving up after", PEER_NOT_RESPONDING),
    ("peer not responding", PEER_NOT_RESPONDING),
)

#: charon's ``log`` event lines that say an SA of a group went down, or a
#: new one is not coming, because the peer stopped answering (DPD or
#: retransmissions given up, IKEv1 DPD timed out; docs/agent.md §Status)
_SILENT_PEER = ("giving up after", "peer not responding", "DPD check timed out")
#: the lines a responder logs when the initiator's psk does not match ours
_RESPONDER_AUTH = ("MAC mismatched", "no shared key found")
#: what a responder logs when a peer starts an IKE SA it has no
#: configuration for: ``no IKE config found for <local>...<peer>, sending ...``
_NO_CONFIG = "no IKE config found for "
#: and when the peer asks for a child it has none for (IKEv2):
#: ``traffic selectors <ours> === <theirs> unacceptable``
_TS_REFUSED = re.compile(r"traffic selectors (.+?) === (.+?) unacceptable")

#: a child's traffic selectors, ours and the peer's, in one spelling
Selectors = tuple[frozenset[str], frozenset[str]]

ESTABLISHED = "ESTABLISHED"
IKE_CONNECTING = "CONNECTING"
INSTALLED = "INSTALLED"
#: IKE SA states whose INSTALLED children carry traffic: ESTABLISHED;
#: REKEYING, which keeps them until an IKEv2 rekey moves them to the new
#: SA; and CONNECTING, for an IKEv1 reauthentication moves them to the new
#: SA before it is ESTABLISHED (the old one shows REKEYING, childless):
#: otherwise a reauthentication would read as DOWN for a moment
CARRYING = frozenset({ESTABLISHED, "REKEYING", IKE_CONNECTING})


@dataclass(frozen=True)
class ConnStatus:
    """A connection's status, why, and what charon shows of it."""

    status: str
    reason: str | None = None
    telemetry: Mapping[str, Any] = field(default_factory=dict)


def failure_reason(logs: Iterable[str]) -> str | None:
    """The reason an attempt failed, read from charon's log lines."""
    lines = list(logs)
    for fragment, reason in _LOG_REASONS:
        if any(fragment in line for line in lines):
            return reason
    return None


def logged_reason(message: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(IKE SA name, reason)`` for a charon ``log`` event that tells why a
    group is down: its peer stopped answering, or (as responder) the peer's
    psk did not match; None for every other line."""
    name, line = message.get("ikesa-name"), str(message.get("msg") or "")
    if not name:
        return None
    if any(fragment in line for fragment in _SILENT_PEER):
        return str(name), PEER_NOT_RESPONDING
    if any(fragment in line for fragment in _RESPONDER_AUTH):
        return str(name), AUTH_FAILED
    return None


def refused_peer(message: Mapping[str, Any]) -> str | None:
    """The peer's address in a charon ``log`` event saying that it tried
    to start an IKE SA this gateway had no configuration for (yet); None
    for every other line."""
    line = str(message.get("msg") or "")
    start = line.find(_NO_CONFIG)
    if start < 0:
        return None
    addresses = line[start + len(_NO_CONFIG) :].partition(",")[0]
    _, dots, peer = addresses.partition("...")
    return peer.strip() if dots and peer.strip() else None


def refused_selectors(message: Mapping[str, Any]) -> tuple[str, Selectors] | None:
    """``(IKE SA name, selectors)`` for a charon ``log`` event saying that
    the peer asked for a child with these selectors that this gateway has
    no configuration for (yet); None for every other line."""
    name, line = message.get("ikesa-name"), str(message.get("msg") or "")
    found = _TS_REFUSED.search(line) if name and "unacceptable" in line else None
    if found is None:
        return None
    return str(name), selectors(found.group(1).split(), found.group(2).split())


def selectors(local: Iterable[str], remote: Iterable[str]) -> Selectors:
    """Traffic selectors as sets of networks in one spelling (charon's log
    and the API may write an address differently)."""
    return frozenset(map(_network, local)), frozenset(map(_network, remote))


@functools.lru_cache(maxsize=65536)
def _network(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def group_sas(sas: Iterable[Mapping[str, Any]], group: str) -> list[dict[str, Any]]:
    """The IKE SAs of ``group`` from a ``list-sas`` answer."""
    return [dict(sa) for entry in sas for name, sa in entry.items() if name == group]


def sas_by_group(sas: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The IKE SAs of every group in a ``list-sas`` answer, in one pass."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in sas:
        for name, sa in entry.items():
            found.setdefault(name, []).append(dict(sa))
    return found


@dataclass(frozen=True)
class GroupSAs:
    """A group's IKE SAs, read once for all its connections (a group of
    500 children would otherwise be walked once per connection)."""

    sas: Sequence[Mapping[str, Any]]
    #: INSTALLED children by name, from IKE SAs that carry traffic only
    installed: Mapping[str, Mapping[str, Any]]
    #: the IKE SA telemetry describes: the first ESTABLISHED one, else the first
    ike: Mapping[str, Any] | None
    #: that SA's child SAs by name, each with its place among them
    children: Mapping[str, Sequence[tuple[int, Mapping[str, Any]]]]
    #: what is worked out of these SAs once for all the group's connections
    memo: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, sas: Sequence[Mapping[str, Any]]) -> GroupSAs:
        installed: dict[str, Mapping[str, Any]] = {}
        for sa in sas:
            if sa.get("state") not in CARRYING:
                continue
            for child in (sa.get("child-sas") or {}).values():
                if child.get("state") == INSTALLED:
                    installed.setdefault(str(child.get("name")), child)
        established = [sa for sa in sas if sa.get("state") == ESTABLISHED]
        ikes = established or list(sas)
        ike = ikes[0] if ikes else None
        children: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
        for place, child in enumerate(((ike or {}).get("child-sas") or {}).values()):
            children.setdefault(str(child.get("name")), []).append((place, child))
        return cls(sas, installed, ike, children)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _at(now: datetime, seconds: Any, sign: int) -> str | None:
    """An absolute UTC time ``seconds`` (charon's relative figure) from ``now``."""
    value = _int(seconds)
    if value is None:
        return None
    return _stamp(int(now.timestamp()) + sign * value)


@functools.lru_cache(maxsize=4096)
def _stamp(epoch: int) -> str:
    """``epoch`` as the API writes times (hundreds of children installed
    within a few seconds share a handful of them: formatted once each)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _proposal(sa: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    parts = []
    for key in keys:
        value = sa.get(key)
        if value:
            size = sa.get("encr-keysize") if key == "encr-alg" else None
            parts.append(f"{value}-{size}" if size else str(value))
    return "/".join(parts) or None


def _ike(ike: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "uniqueid": ike.get("uniqueid"),
        "state": ike.get("state"),
        "version": _int(ike.get("version")),
        "initiator": ike.get("initiator") == "yes",
        "local_host": ike.get("local-host"),
        "local_port": _int(ike.get("local-port")),
        "remote_host": ike.get("remote-host"),
        "remote_port": _int(ike.get("remote-port")),
        "nat_t": any(ike.get(k) == "yes" for k in ("nat-local", "nat-remote", "nat-any")),
        "local_spi": ike.get("initiator-spi" if ike.get("initiator") == "yes" else "responder-spi"),
        "remote_spi": ike.get(
            "responder-spi" if ike.get("initiator") == "yes" else "initiator-spi"
        ),
        "proposal": _proposal(ike, ("encr-alg", "integ-alg", "prf-alg", "dh-group")),
        "established_at": _at(now, ike.get("established"), -1),
        "rekey_at": _at(now, ike.get("rekey-time"), 1),
        "reauth_at": _at(now, ike.get("reauth-time"), 1),
    }


def _child(child: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "name": child.get("name"),
        "uniqueid": child.get("uniqueid"),
        "state": child.get("state"),
        "mode": child.get("mode"),
        "protocol": child.get("protocol"),
        "spi_in": child.get("spi-in"),
        "spi_out": child.get("spi-out"),
        "proposal": _proposal(child, ("encr-alg", "integ-alg", "dh-group")),
        "installed_at": _at(now, child.get("install-time"), -1),
        "rekey_at": _at(now, child.get("rekey-time"), 1),
        "expires_at": _at(now, child.get("life-time"), 1),
        **{
            key.replace("-", "_"): _int(child.get(key)) or 0
            for key in ("bytes-in", "bytes-out", "packets-in", "packets-out")
        },
        "local_ts": list(child.get("local-ts") or ()),
        "remote_ts": list(child.get("remote-ts") or ()),
    }


def _telemetry(
    group: GroupSAs, children: Sequence[str], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """What ``list-sas`` shows of one connection (docs/agent-protocol.md
    §telemetry): its IKE SA and its child SAs, times made absolute."""
    now = datetime.now(UTC)
    out: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if group.ike is not None:  # one IKE SA serves the whole group: read once
        out["ike_sa"] = dict(
            group.memo.get("ike") or group.memo.setdefault("ike", _ike(group.ike, now))
        )
    mine = sorted(
        (entry for name in dict.fromkeys(children) for entry in group.children.get(name, ())),
        key=lambda entry: entry[0],
    )
    out["child_sas"] = [_child(child, now) for _, child in mine]
    return out


def status_of(
    *,
    enabled: bool,
    initiator: str,
    children: Sequence[str],
    sas: Sequence[Mapping[str, Any]] | GroupSAs,
    last_failure: str | None = None,
    dpd_timeout: float | None = None,
    mtu: int | None = None,
) -> ConnStatus:
    """The status of one connection whose group has the IKE SAs ``sas``.

    Args:
        enabled: the connection and its service are admin-up.
        initiator: the connection's ``initiator``.
        children: the child names the connection expects.
        sas: its group's IKE SAs from ``list-sas`` (or read once: :class:`GroupSAs`).
        last_failure: why the last load or initiation failed, if it did.
        dpd_timeout: the effective DPD timeout, reported in the telemetry.
        mtu: the MTU set on the tunnel routes, reported likewise.
    """
    group = sas if isinstance(sas, GroupSAs) else GroupSAs.of(sas)
    installed = group.installed
    telemetry = _telemetry(group, children, {"dpd_timeout": dpd_timeout, "mtu": mtu})
    if not enabled:
        return ConnStatus(DOWN, ADMIN_DOWN, telemetry)
    if last_failure == CONFIG_REFUSED:
        return ConnStatus(ERROR, last_failure, telemetry)
    if children and all(name in installed for name in children):
        return ConnStatus(ACTIVE, None, telemetry)
    if last_failure in ERROR_REASONS:
        return ConnStatus(ERROR, last_failure, telemetry)
    if last_failure:
        return ConnStatus(DOWN, last_failure, telemetry)
    if group.sas:
        return ConnStatus(DOWN, CONNECTING, telemetry)
    if initiator == "response-only":
        return ConnStatus(DOWN, WAITING, telemetry)
    return ConnStatus(DOWN, CONNECTING, telemetry)
