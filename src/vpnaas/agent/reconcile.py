"""Make charon hold the desired state, changing only what changed.

Per group (one IKE connection, see :mod:`~vpnaas.ipsec.desired`) the
reconciler remembers digests of what it loaded: the IKE settings, the psk
and each child. A change of the IKE settings or the psk terminates the IKE
SA first (a new psk or proposal only applies to a new SA), a changed or
removed child is terminated alone; then the secret is loaded before the
connection (charon initiates inside ``load-conn``). A group that is no
longer wanted (deleted, or admin-down) is terminated, then its connection
and secret are unloaded. charon is never restarted; when it restarts by
itself (its ``stats`` start time changes) everything is loaded again.

Fail-closed routes follow every existing connection, admin-down included,
and are kept whether or not charon answers. Initiation is left to
:class:`~vpnaas.agent.initiate.Initiator`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vpnaas.agent.charon import SINCE_FORMAT, Charon, CharonRefused, CharonUnavailable
from vpnaas.agent.charonconf import Retransmit, dpd_timeout
from vpnaas.agent.routes import Routes, Tunnel
from vpnaas.agent.status import (
    CONFIG_REFUSED,
    CONNECTING,
    ERROR_REASONS,
    ESTABLISHED,
    INSTALLED,
    PEER_NOT_RESPONDING,
    ConnStatus,
    GroupSAs,
    sas_by_group,
    status_of,
)
from vpnaas.ipsec import translate
from vpnaas.ipsec.desired import DesiredState, Group
from vpnaas.spec.vpn import ACTIVE

__all__ = ["GROUP_PREFIX", "Loaded", "Reconciler"]

LOG = logging.getLogger(__name__)

#: every IKE connection the agent loads is named ``vpn-…``; others are left alone
GROUP_PREFIX = "vpn-"
#: DOWN reasons of connections the agent cannot load
CHARON_UNAVAILABLE = "charon unavailable"
NO_LOCAL_ADDRESS = "router has no external address"


@dataclass
class Loaded:
    """Digests of what is loaded in charon for one group."""

    ike: str
    secret: str
    children: dict[str, str] = field(default_factory=dict)


def _restarted(before: str, now: str) -> bool:
    """Whether charon's start time moved: ``stats`` derives it from the
    uptime, so it may wobble by a second; a lost session (which a restart
    also causes) triggers a full reconciliation anyway."""
    try:
        moved = datetime.strptime(now, SINCE_FORMAT) - datetime.strptime(before, SINCE_FORMAT)  # noqa: DTZ007
    except ValueError:
        return now != before
    return abs(moved.total_seconds()) > 2


class Reconciler:
    """Apply desired states to one charon and read back statuses.

    Not thread-safe: one thread (the agent's loop) calls it.
    """

    def __init__(
        self,
        vici_uri: str,
        routes: Routes,
        retransmit: Retransmit | None = None,
        connect: Callable[[str], Charon] = Charon,
    ) -> None:
        self.vici_uri = vici_uri
        self.routes = routes
        self.retransmit = retransmit or Retransmit()
        self._connect = connect
        self.charon: Charon | None = None
        self.since: str | None = None
        self.loaded: dict[str, Loaded] = {}
        self.failures: dict[str, str] = {}
        self._last_attempt: dict[str, str | None] = {}
        self.desired: DesiredState | None = None
        self.restarts = 0

    # --- charon ----------------------------------------------------------------

    def session(self) -> Charon:
        """The command session, (re)connected; a changed start time means
        charon restarted and lost everything: forget what was loaded."""
        if self.charon is None:
            self.charon = self._connect(self.vici_uri)
        since = self.charon.since()
        if self.since is not None and _restarted(self.since, since):
            LOG.warning("charon restarted (up since %s): loading everything again", since)
            self.loaded.clear()
            self.restarts += 1
            self.since = since
        elif self.since is None:  # kept while it only wobbles: reports carry it
            self.since = since
        return self.charon

    def drop_session(self) -> None:
        if self.charon is not None:
            self.charon.close()
        self.charon = None

    # --- applying ----------------------------------------------------------------

    def apply(self, desired: DesiredState) -> bool:
        """Make charon and the routes match ``desired``; False when charon
        could not be reached (the routes are applied anyway)."""
        if self.desired is not None:
            old = {c.id: c.revision for c in self.desired.connections}
            for conn in desired.connections:
                if old.get(conn.id) != conn.revision:
                    self.failures.pop(conn.id, None)
                    self._last_attempt.pop(conn.id, None)
        self.desired = desired
        self.routes.sync_fail_closed({c for conn in desired.connections for c in conn.peer_cidrs})
        try:
            self._apply_charon(desired)
        except CharonUnavailable as exc:
            LOG.warning("charon unavailable: %s", exc)
            self.drop_session()
            return False
        return True

    def _apply_charon(self, desired: DesiredState) -> None:
        charon = self.session()
        present = set(charon.conns())
        for name in list(self.loaded):
            if name not in present:  # unloaded behind our back: load again
                del self.loaded[name]
        wanted = {g.name: g for g in desired.groups() if g.enabled and g.first.local_address}
        for name in sorted((present | set(self.loaded)) - set(wanted)):
            if name.startswith(GROUP_PREFIX):
                self._remove(charon, name)
        for group in wanted.values():
            self._apply_group(charon, group)

    def _remove(self, charon: Charon, name: str) -> None:
        LOG.info("removing %s", name)
        charon.terminate(ike=name)
        with contextlib.suppress(CharonRefused):
            charon.unload_conn(name)
        with contextlib.suppress(CharonRefused):
            charon.unload_shared(f"psk-{name}")
        self.loaded.pop(name, None)

    def _apply_group(self, charon: Charon, group: Group) -> None:
        settings = translate.ike_settings(group)
        kids: dict[str, Any] = {}
        for conn in group.enabled:
            kids.update(translate.children(conn))
        want = Loaded(
            ike=translate.digest(settings),
            secret=translate.digest(translate.shared_secret(group)),
            children={name: translate.digest(child) for name, child in kids.items()},
        )
        prev = self.loaded.get(group.name)
        if prev == want:
            return
        if prev is not None and (prev.ike != want.ike or prev.secret != want.secret):
            LOG.info("%s: IKE settings or psk changed, ending its IKE SA", group.name)
            charon.terminate(ike=group.name)
        elif prev is not None:
            for name, old in prev.children.items():
                if want.children.get(name) != old:
                    LOG.info("%s: child %s changed or removed, ending it", group.name, name)
                    charon.terminate(ike=group.name, child=name)
        try:
            if prev is None or prev.secret != want.secret:
                charon.load_shared(translate.shared_secret(group))
            charon.load_conn({group.name: {**settings, "children": kids}})
        except CharonRefused as exc:
            LOG.error("%s: charon refused the configuration: %s", group.name, exc)
            for conn in group.connections:
                self.failures[conn.id] = CONFIG_REFUSED
            self.loaded.pop(group.name, None)
            return
        LOG.info("%s: loaded (%d children)", group.name, len(kids))
        self.loaded[group.name] = want

    def sync_tunnel_routes(self, sas: list[dict[str, Any]]) -> None:
        """Routes and MTU for each installed child of an enabled connection
        (charon re-creates the routes with every CHILD SA, so this runs
        after each)."""
        if self.desired is None:
            return
        wanted: dict[str, Tunnel] = {}
        by_group = sas_by_group(sas)
        for group in self.desired.groups():
            # each child's connection, looked up once: asking every
            # connection for each child cost 1.4 s a round at 500
            owners = {name: c for c in group.enabled for name in translate.child_names(c)}
            for ike in by_group.get(group.name, ()):
                if ike.get("state") != ESTABLISHED:
                    continue
                for child in (ike.get("child-sas") or {}).values():
                    conn = owners.get(str(child.get("name")))
                    if conn is None or child.get("state") != INSTALLED:
                        continue
                    tunnel = Tunnel(tuple(child.get("local-ts") or ()), conn.mtu)
                    for cidr in child.get("remote-ts") or ():
                        wanted[str(ipaddress.ip_network(cidr, strict=False))] = tunnel
        self.routes.sync_tunnel(wanted)

    # --- reading -----------------------------------------------------------------

    def list_sas(self) -> list[dict[str, Any]] | None:
        """``list-sas`` of every group, or None when charon is unreachable."""
        try:
            return self.session().list_sas()
        except CharonUnavailable:
            self.drop_session()
            return None

    def statuses(self, sas: list[dict[str, Any]] | None) -> dict[str, ConnStatus]:
        """The status of every desired connection."""
        out: dict[str, ConnStatus] = {}
        if self.desired is None:
            return out
        by_group = sas_by_group(sas or [])
        for group in self.desired.groups():
            mine = GroupSAs.of(by_group.get(group.name, []))
            timeout = self.dpd_timeout(group)
            for conn in group.connections:
                failure = self.failures.get(conn.id) if sas is not None else CHARON_UNAVAILABLE
                out[conn.id] = status_of(
                    enabled=conn.enabled,
                    initiator=conn.initiator,
                    children=translate.child_names(conn),
                    sas=mine,
                    last_failure=failure if conn.local_address else NO_LOCAL_ADDRESS,
                    dpd_timeout=timeout,
                    mtu=conn.mtu,
                )
                if out[conn.id].status == ACTIVE:  # up again: the last failure is over
                    self.failures.pop(conn.id, None)
                    self._last_attempt.pop(conn.id, None)
        return out

    def dpd_timeout(self, group: Group) -> float | None:
        conn = group.first
        delay = translate.DPD_ACTIONS[conn.dpd_action][1] and conn.dpd_interval
        return dpd_timeout(
            conn.ikepolicy.ike_version, int(delay), conn.dpd_timeout, self.retransmit
        )

    def record(self, failures: Mapping[str, str | None]) -> None:
        """Keep the outcome of initiations: a reason, or None for success.

        A reason counts from its second attempt in a row: the first attempt
        of two gateways configured moments apart often meets a peer that
        has no configuration yet (it answers "no proposal chosen"), which
        is no error; a mismatch fails again on the retry."""
        for conn_id, reason in failures.items():
            previous = self._last_attempt.get(conn_id)
            self._last_attempt[conn_id] = reason
            if self.failures.get(conn_id) == CONFIG_REFUSED:
                continue
            if reason is None:
                self.failures.pop(conn_id, None)
            elif reason == CONNECTING and self.failures.get(conn_id) == PEER_NOT_RESPONDING:
                continue  # an attempt that timed out: the peer still does not answer
            elif reason == previous or reason not in ERROR_REASONS:
                self.failures[conn_id] = reason
            else:
                self.failures[conn_id] = CONNECTING

    def logged(self, name: str, reason: str) -> None:
        """A reason charon logged for the IKE SAs named ``name``. A silent
        peer counts at once and stays while charon's and the agent's retries
        time out; an authentication failure counts (like an attempt) only
        for response-only connections, whose attempts are the peer's: the
        agent's own initiations report theirs already."""
        if self.desired is None:
            return
        for group in self.desired.groups():
            if group.name != name:
                continue
            for conn in group.connections:
                if reason == PEER_NOT_RESPONDING:
                    if self.failures.get(conn.id) != CONFIG_REFUSED:
                        self.failures[conn.id] = reason
                elif translate.START_ACTIONS[conn.initiator] == "none":
                    self.record({conn.id: reason})
