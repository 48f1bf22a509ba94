"""charon's events on a second VICI session: IKE and CHILD SAs going up or
down, rekeys, and charon's log lines (the ``log`` event, the only one that
says why an SA went down). Each one (and the session being lost or coming
back, which is how a charon restart shows) is handed to a callback, so the
agent reads the new state and reports within a second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import vici.exception

from vpnaas.agent.charon import Charon, CharonUnavailable, decode

__all__ = ["CHILD_UPDOWN", "EVENTS", "LOG_EVENT", "EventListener"]

LOG = logging.getLogger(__name__)

LOG_EVENT = "log"
CHILD_UPDOWN = "child-updown"
EVENTS = ("ike-updown", CHILD_UPDOWN, "ike-rekey", "child-rekey", LOG_EVENT)
#: pseudo-events for the session itself
LOST = "session-lost"
CONNECTED = "session-connected"


class EventListener(threading.Thread):
    """Listens until :meth:`stop`; reconnects every ``retry`` seconds."""

    def __init__(
        self,
        vici_uri: str,
        callback: Callable[[str, dict[str, object]], None],
        *,
        retry: float = 0.5,
        connect: Callable[[str], Charon] = Charon,
    ) -> None:
        super().__init__(name="vici-events", daemon=True)
        self.vici_uri = vici_uri
        self.callback = callback
        self.retry = retry
        self._connect = connect
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                charon = self._connect(self.vici_uri)
            except CharonUnavailable:
                self._stop_event.wait(self.retry)
                continue
            try:
                self._listen(charon)
            finally:
                charon.close()
            if not self._stop_event.is_set():
                self.callback(LOST, {})
                self._stop_event.wait(self.retry)

    def _listen(self, charon: Charon) -> None:
        try:
            stream = charon.session.listen(list(EVENTS), timeout=0.5)
            self.callback(CONNECTED, {})
            for kind, message in stream:
                if self._stop_event.is_set():
                    stream.close()
                    return
                if kind is None:
                    continue
                self.callback(decode(kind), decode(message))
        except (OSError, vici.exception.SessionException, CharonUnavailable) as exc:
            LOG.info("event session ended: %s", exc)
