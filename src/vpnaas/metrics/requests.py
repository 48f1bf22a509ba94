"""Request counters and latency histograms, by method, route template and
status: what :class:`vpnaas.api.access.Observe` records for each request."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["BUCKETS", "RequestMetrics"]

#: seconds; fine below 10 ms (a cached list takes well under one), and up
#: to the agent API's longest poll (60 s)
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LABELS = ("method", "route", "status")


class RequestMetrics:
    """The counter and histogram of one listener, named ``<prefix>_requests_total``
    and ``<prefix>_request_duration_seconds``. Calling it records one request."""

    def __init__(self, prefix: str, registry: CollectorRegistry | None = None) -> None:
        self.requests = Counter(
            f"{prefix}_requests",
            "Requests answered, by method, route template and status.",
            LABELS,
            registry=registry,
        )
        self.duration = Histogram(
            f"{prefix}_request_duration_seconds",
            "Seconds from the request reaching the application to its answer.",
            LABELS,
            buckets=BUCKETS,
            registry=registry,
        )
        #: the children of each label set, found once (``labels()`` takes a lock)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def __call__(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self.requests.labels(*key), self.duration.labels(*key)
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
