"""When the agent's loop applies a new desired state, and when it ends the
rest between two status rounds early (docs/agent.md §Status).

Not thread-safe: the agent calls it under its own lock (the poller offers
states, the events thread counts CHILD SAs coming up, the loop reads).
"""

from __future__ import annotations

__all__ = ["HOLD_MAX", "REST", "SETTLE", "START_LAG", "TICK", "Pacing"]

#: the loop wakes at least this often
TICK = 0.5
#: a new desired state is applied once none newer came for this long ...
SETTLE = 0.15
#: ... or this long after the first one not applied yet (during a stream
#: of creates: a reload costs the agent and charon little, and the tunnels
#: created so far come up meanwhile); both this much later on a gateway
#: that starts a group at load: the peer gets the same state at the same
#: moment, and the children charon starts as it loads them are refused if
#: the peer has not loaded them yet. While that gateway's charon has no
#: connection left to bring up, a state is applied that long after it
#: came, whether newer ones come or not: waiting for quiet only left
#: charon idle while the first tunnels of a burst could come up
HOLD_MAX = 0.4
START_LAG = 0.15
#: a round is followed by this many times its own length without one
#: (so rounds take at most a fifth of a core), up to :data:`TICK`
REST = 4


class Pacing:
    """The loop's timing state."""

    def __init__(self) -> None:
        #: when the pending state came, the first one not applied, and the lag
        self.offered = (0.0, 0.0, 0.0)
        #: connections the last round saw connecting
        self.connecting = 0
        #: CHILD SAs charon said came up since that round read the SAs
        self.ups = 0

    def offer(self, now: float, first: bool, starts: bool) -> None:
        """A new desired state came at ``now`` (``first``: none was
        waiting); ``starts``: this gateway starts some of its children."""
        began = now if first else self.offered[1]
        self.offered = (now, began, START_LAG if starts else 0.0)

    def due_in(self, now: float) -> float:
        """Seconds until the waiting desired state may be applied."""
        last, first, lag = self.offered
        if lag and not self.connecting:
            return max(0.0, first + SETTLE + lag - now)
        return max(0.0, min(last + SETTLE, first + HOLD_MAX) + lag - now)

    def rest(self, round_length: float) -> float:
        """How long the loop rests after a round that took ``round_length``."""
        return min(REST * round_length, TICK)

    def rest_over(self) -> bool:
        """Whether the CHILD SAs that came up since the last round cover
        every connection it saw connecting: the last ones of a bring-up
        are told at once, not after the rest."""
        return 0 < self.connecting <= self.ups
