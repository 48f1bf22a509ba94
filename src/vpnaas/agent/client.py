"""The agent's side of the channel (docs/agent-protocol.md): long-poll the
desired state, post reports, fail over between servers.

Requests go through a keystoneauth1 session: in keystone mode it carries
the service user's token (and fetches a new one on a 401); in noauth mode
the agent sends admin identity headers itself. The state answer carries
psks, so keystoneauth's request logging is off for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session

__all__ = ["NOAUTH_HEADERS", "ServerClient", "ServerUnavailable"]

LOG = logging.getLogger(__name__)

#: the identity a noauth server reads (no project: an admin)
NOAUTH_HEADERS = {"X-User-Id": "vpnaas-agent", "X-Roles": "admin,service"}
STATE_PATH = "agent/v1/state"
REPORTS_PATH = "agent/v1/reports"


class ServerUnavailable(Exception):
    """No server answered (or each answered with a server error)."""


class ServerClient:
    """Talks to the first server that answers, starting with the last good one."""

    def __init__(self, urls: Sequence[str], session: ks_session.Session, *, noauth: bool) -> None:
        if not urls:
            raise ValueError("at least one server URL is needed")
        self.urls = [u if u.endswith("/") else u + "/" for u in urls]
        self.session = session
        self.noauth = noauth
        self._current = 0

    def _request(self, method: str, path: str, *, timeout: float, **kwargs: Any) -> Any:
        headers = {"Accept": "application/json", **(NOAUTH_HEADERS if self.noauth else {})}
        last: Exception | None = None
        for attempt in range(len(self.urls)):
            index = (self._current + attempt) % len(self.urls)
            url = self.urls[index] + path
            try:
                resp = self.session.request(
                    url,
                    method,
                    headers=headers,
                    raise_exc=False,
                    authenticated=None if not self.noauth else False,
                    connect_retries=0,
                    timeout=timeout,
                    log=False,
                    **kwargs,
                )
            except ks_exceptions.ClientException as exc:  # connect failure, timeout
                last = exc
                continue
            if resp.status_code >= 500:
                last = ServerUnavailable(f"{url}: {resp.status_code}")
                continue
            if index != self._current:
                LOG.info("now talking to %s", self.urls[index])
            self._current = index
            return resp
        raise ServerUnavailable(str(last))

    def state(
        self, host: str, routers: Sequence[str], known: str | None, wait: int
    ) -> Mapping[str, Any] | None:
        """The desired state, or None when it still is ``known`` after
        waiting up to ``wait`` seconds."""
        params: list[tuple[str, str]] = [("host", host), *(("router", r) for r in routers)]
        if known:
            params += [("known", known), ("wait", str(wait))]
        resp = self._request("GET", STATE_PATH, params=params, timeout=wait + 15.0)
        if resp.status_code == 304:
            return None
        if resp.status_code != 200:
            raise ServerUnavailable(f"state: {resp.status_code} {resp.text[:200]}")
        body: Mapping[str, Any] = orjson.loads(resp.content)  # hundreds of kB: not the json module
        return body

    def report(self, report: Mapping[str, Any]) -> Mapping[str, Any]:
        """Post a report; the server's ``{"accepted": …, "stale": …}``."""
        resp = self._request("POST", REPORTS_PATH, json=dict(report), timeout=15.0)
        if resp.status_code != 200:
            raise ServerUnavailable(f"report: {resp.status_code} {resp.text[:200]}")
        body: Mapping[str, Any] = orjson.loads(resp.content)
        return body
