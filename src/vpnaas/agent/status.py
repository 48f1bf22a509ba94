"""``list-sas`` → the status of each VPNaaS connection. Pure.

``ACTIVE`` only when, for every child the connection expects, an
ESTABLISHED IKE SA of its group holds an INSTALLED child of that name
(REKEYED, DELETING and other transient SAs are ignored; an IKE SA alone
never counts: charon keeps it when a child fails). Otherwise ``DOWN`` with a
reason, or ``ERROR`` when charon refused the configuration or the last
attempt failed for a reason that will not cure itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vpnaas.spec.vpn import ACTIVE, DOWN, ERROR

__all__ = [
    "ADMIN_DOWN",
    "CONFIG_REFUSED",
    "CONNECTING",
    "ERROR_REASONS",
    "PEER_NOT_RESPONDING",
    "WAITING",
    "ConnStatus",
    "failure_reason",
    "group_sas",
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

ESTABLISHED = "ESTABLISHED"
IKE_CONNECTING = "CONNECTING"
INSTALLED = "INSTALLED"


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


def group_sas(sas: Iterable[Mapping[str, Any]], group: str) -> list[dict[str, Any]]:
    """The IKE SAs of ``group`` from a ``list-sas`` answer."""
    return [dict(sa) for entry in sas for name, sa in entry.items() if name == group]


def _installed(sas: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """INSTALLED children by name, from ESTABLISHED IKE SAs only."""
    found: dict[str, dict[str, Any]] = {}
    for ike in sas:
        if ike.get("state") != ESTABLISHED:
            continue
        for child in (ike.get("child-sas") or {}).values():
            if child.get("state") == INSTALLED:
                found.setdefault(str(child.get("name")), dict(child))
    return found


def _telemetry(
    sas: Sequence[Mapping[str, Any]], installed: Mapping[str, Mapping[str, Any]], dpd: float | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ike_sas": [str(ike.get("state")) for ike in sas],
        "children": {
            name: {
                key: child.get(key)
                for key in (
                    "spi-in",
                    "spi-out",
                    "bytes-in",
                    "bytes-out",
                    "packets-in",
                    "packets-out",
                )
            }
            for name, child in installed.items()
        },
    }
    if dpd is not None:
        out["dpd_timeout"] = dpd
    return out


def status_of(
    *,
    enabled: bool,
    initiator: str,
    children: Sequence[str],
    sas: Sequence[Mapping[str, Any]],
    last_failure: str | None = None,
    dpd_timeout: float | None = None,
) -> ConnStatus:
    """The status of one connection whose group has the IKE SAs ``sas``.

    Args:
        enabled: the connection and its service are admin-up.
        initiator: the connection's ``initiator``.
        children: the child names the connection expects.
        sas: its group's IKE SAs from ``list-sas``.
        last_failure: why the last load or initiation failed, if it did.
        dpd_timeout: the effective DPD timeout, reported in the telemetry.
    """
    installed = _installed(sas)
    telemetry = _telemetry(sas, installed, dpd_timeout)
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
    if sas:
        return ConnStatus(DOWN, CONNECTING, telemetry)
    if initiator == "response-only":
        return ConnStatus(DOWN, WAITING, telemetry)
    return ConnStatus(DOWN, CONNECTING, telemetry)
