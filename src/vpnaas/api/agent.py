"""The agent API (docs/agent-protocol.md): desired state out, reports in.

A Falcon application of its own, served on its own listener, so a long poll
holds a thread of that listener and never one the public API needs. While
agents wait, one :class:`Watcher` thread per process reads the write
counters of the resources the desired state is built from every
``interval`` seconds and wakes the waiters when one moved; the first waiter
to wake builds the states of every waiting agent in one load
(:class:`SharedStates`), and each answers if its revision changed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import falcon

from vpnaas import errors
from vpnaas.api import http
from vpnaas.context import RequestContext
from vpnaas.db.engine import Database, retrying
from vpnaas.db.query import Hooks, Scope
from vpnaas.db.repo import Repo
from vpnaas.db.revisions import revisions_of, revisions_query
from vpnaas.db.secrets import Sealer
from vpnaas.db.tables import Schema
from vpnaas.drivers.strongswan import liveness, reports
from vpnaas.drivers.strongswan.kept import KeptRows
from vpnaas.drivers.strongswan.state import (
    STATUS_COUNTERS,
    WATCHED,
    desired_states,
    desired_version,
)
from vpnaas.hooks import RuleEnv, RuleOptions
from vpnaas.spec import Catalog

__all__ = ["MAX_WAIT", "AgentAPI", "SharedStates", "Watcher", "add_agent_routes"]

#: the longest long poll a client may ask for, in seconds
MAX_WAIT = 60
_AGENT = RequestContext(project_id=None, roles=frozenset({"admin"}), is_admin=True)
Version = tuple[tuple[str, int], ...]
#: the routers one agent serves, as it asked for them
Key = tuple[str, ...]


class Watcher:
    """Wakes waiting agents when a write counter of :data:`WATCHED` moves
    (a status report's excepted: :func:`desired_version`),
    and for good once ``stop_marker`` exists (the server is stopping)."""

    def __init__(self, db: Database, schema: Schema, interval: float = 0.1) -> None:
        self.stop_marker: Path | None = None
        self.stopping = False
        self.db = db
        counters = (*WATCHED, *STATUS_COUNTERS.values())
        self.sql, self.members = revisions_query(schema, db.paramstyle, counters)
        self.interval = interval
        self.changed = threading.Condition()
        self.version: Version = ()
        self.waiters = 0
        self.thread: threading.Thread | None = None

    def current(self) -> Version:
        """The counters now (read before building a state, so no later
        change can be missed)."""
        return desired_version(revisions_of(self.members, self.db.peek(self.sql, self.members)))

    def wait(self, seen: Version, timeout: float) -> Version:
        """The counters once they differ from ``seen``, or after ``timeout``."""
        with self.changed:
            self.waiters += 1
            if self.thread is None:
                self.version = seen
                self.thread = threading.Thread(
                    target=self._poll, name="vpnaas-watcher", daemon=True
                )
                self.thread.start()
            try:
                self.changed.wait_for(lambda: self.version != seen or self.stopping, timeout)
                return self.version
            finally:
                self.waiters -= 1

    def _poll(self) -> None:
        """Read the counters while anyone waits; stop when nobody does."""
        while True:
            time.sleep(self.interval)
            try:
                version = self.current()
            except errors.ApiError:  # the database is away: the waiters time out
                version = self.version
            stopping = self.stop_marker is not None and self.stop_marker.exists()
            with self.changed:
                if stopping and not self.stopping:
                    self.stopping = True
                    self.changed.notify_all()
                if version != self.version:
                    self.version = version
                    self.changed.notify_all()
                if self.waiters == 0:
                    self.thread = None
                    return


class SharedStates:
    """One build per version of the write counters, for every router list
    agents wait on: after a write, 50 waiting agents cost one load of their
    rows, not 50; under a stream of writes, one build every
    ``min_interval`` seconds at most, and never more than a sixth of a
    core (a build of 1,000 connections takes a while, in the process that
    serves the API).

    An agent that starts waiting while a build waits out its pause is in
    that build (docs/agent-protocol.md §state): waiters are counted under
    a lock of their own, not under the one the build holds."""

    def __init__(
        self,
        build: Callable[[list[Key]], dict[Key, dict[str, Any]]],
        current: Callable[[], Version],
        min_interval: float = 0.25,
    ) -> None:
        self.build = build
        self.min_interval = min_interval
        #: the counters now: read again after a pause, so that the build
        #: holds the writes made meanwhile
        self.current = current
        self.built = 0.0
        self.pause = min_interval
        self.lock = threading.Lock()
        self.version: Version | None = None
        self.states: dict[Key, dict[str, Any]] = {}
        self.waiting_lock = threading.Lock()
        self.waiting: Counter[Key] = Counter()

    def get(self, version: Version, key: Key) -> dict[str, Any]:
        """The state of ``key`` as of ``version`` (or newer: a build that
        another waiter made at newer counters answers this one too)."""
        with self.lock:
            if not _covers(self.version, version):
                pause = self.built + self.pause - time.monotonic()
                if pause > 0:  # a stream of writes: build at most every min_interval
                    time.sleep(pause)
                    version = self.current()
                with self.waiting_lock:
                    keys = sorted({*self.waiting, key})
                started = time.thread_time()  # the wall time would count the wait for the GIL
                self.states = self.build(keys)
                self.version = version
                self.built = time.monotonic()
                self.pause = max(self.min_interval, 5 * (time.thread_time() - started))
            elif key not in self.states:
                self.states.update(self.build([key]))
            return self.states[key]

    @contextmanager
    def waiting_for(self, key: Key) -> Iterator[None]:
        with self.waiting_lock:
            self.waiting[key] += 1
        try:
            yield
        finally:
            with self.waiting_lock:
                self.waiting[key] -= 1
                if not self.waiting[key]:
                    del self.waiting[key]


def _covers(built: Version | None, seen: Version) -> bool:
    """Whether states built at counters ``built`` hold every write counted
    in ``seen`` (each counter only grows: :func:`desired_version`)."""
    if built is None:
        return False
    have = dict(built)
    return all(have.get(member, -1) >= number for member, number in seen)


class AgentAPI:
    """The work behind the two routes, over one database."""

    def __init__(
        self,
        db: Database,
        schema: Schema,
        cat: Catalog,
        hooks: Hooks,
        down_time: int,
        sealer: Sealer,
    ) -> None:
        self.db = db
        self.schema = schema
        #: opens the psks the desired state hands to agents (sealed at rest)
        self.sealer = sealer
        self.catalog = cat
        self.hooks = hooks
        self.down_time = down_time
        self.watcher = Watcher(db, schema)
        #: the rows and documents of the states and reports built here, kept
        #: between builds (drivers/strongswan/kept.py)
        self.kept = KeptRows()
        self.shared = SharedStates(self.states, current=self.watcher.current)
        self.sweeper = liveness.Sweeper(self.sweep, down_time)

    @contextmanager
    def _env(self, *, write: bool) -> Iterator[RuleEnv]:
        with self.db.write() if write else self.db.read() as conn:
            env = RuleEnv(
                ctx=_AGENT,
                repo=Repo(conn, self.schema, self.hooks, sealer=self.sealer),
                catalog=self.catalog,
                options=RuleOptions(),
                scope_of=lambda res: Scope(None),
            )
            yield env
            if write:
                env.repo.bump_revisions()

    def states(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        with self._env(write=False) as env:
            return desired_states(env, keys, self.kept)

    def wait_state(
        self, routers: list[str], known: str | None, wait: float
    ) -> dict[str, Any] | None:
        """The state, at once if ``known`` is not its revision, else once it
        changes within ``wait`` seconds (``None`` if it did not, or if the
        server began to stop meanwhile)."""
        deadline = time.monotonic() + wait
        key = tuple(dict.fromkeys(routers))
        with self.shared.waiting_for(key):
            seen = self.watcher.current()
            state = self.shared.get(seen, key)
            while state["revision"] == known:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.watcher.stopping:
                    return None
                version = self.watcher.wait(seen, remaining)
                if version != seen:
                    seen = version
                    state = self.shared.get(seen, key)
        return state

    def report(self, doc: Any) -> dict[str, list[str]]:
        report = reports.parse_report(doc)

        def apply() -> dict[str, list[str]]:
            with self._env(write=True) as env:
                return reports.apply_report(env, report, self.kept)

        return retrying(apply)

    def sweep(self) -> list[str]:
        """Declare late agents dead: one plain read while none is late."""
        sql, params = liveness.late_query(self.schema, self.db.paramstyle, self.down_time)
        if not self.db.peek(sql, params):
            return []
        with self._env(write=True) as env:
            return liveness.sweep(env, self.down_time)


class AgentsOnly:
    """Every agent API request needs the admin or service role."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = http.context(req)
        if not (ctx.is_admin or ctx.is_service):
            raise errors.AgentAPIForbidden()


def _query(req: falcon.Request) -> tuple[list[str], str | None, float]:
    params = http.params(req)
    values: dict[str, list[str]] = {}
    for key, value in params.pairs:
        values.setdefault(key, []).append(value)
    unknown = sorted(set(values) - {"host", "router", "known", "wait"})
    if unknown:
        raise errors.InvalidAgentRequest(reason=f"unknown parameter {unknown[0]}")
    if not values.get("host", [""])[0]:
        raise errors.InvalidAgentRequest(reason="host is required")
    try:
        wait = float(values.get("wait", ["0"])[-1])
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= MAX_WAIT:
        raise errors.InvalidAgentRequest(reason=f"wait must be a number from 0 to {MAX_WAIT}")
    return values.get("router", []), values.get("known", [None])[-1], wait


class StateRoute:
    def __init__(self, api: AgentAPI) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        routers, known, wait = _query(req)
        state = self.api.wait_state(routers, known, wait)
        if state is None:
            resp.status = 304
            return
        http.send(resp, state)


#: A report lists every connection of the agent's routers with its telemetry
#: (about a kilobyte each), so the public API's body limit would silence an
#: agent past ~100 connections; the agent API answers only admins and
#: service users (docs/agent-protocol.md).
REPORT_MAX_BODY = 16 * 1024 * 1024


class ReportsRoute:
    def __init__(self, api: AgentAPI, max_body: int) -> None:
        self.api = api
        self.max_body = max(max_body, REPORT_MAX_BODY)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        http.send(resp, self.api.report(http.json_body(req, self.max_body)))


def add_agent_routes(
    app: falcon.App[falcon.Request, falcon.Response], api: AgentAPI, max_body: int
) -> None:
    app.add_route("/agent/v1/state", StateRoute(api))
    app.add_route("/agent/v1/reports", ReportsRoute(api, max_body))
