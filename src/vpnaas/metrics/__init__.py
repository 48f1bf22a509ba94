"""Prometheus metrics: request counters and latency histograms the API
workers record, and gauges read from the database when scraped.

``vpnaas serve`` with ``[metrics] enabled`` gives its processes one private
directory (prometheus_client's multiprocess mode, :mod:`vpnaas.metrics.listener`):
every worker, and the agent API's process, write their samples there, and
the listener's process adds them up at each scrape, beside what
:mod:`vpnaas.metrics.collector` reads from the database. The README lists
every metric; docs/decisions.md says why this design.

Nothing here imports ``prometheus_client`` at import time: it decides
between one process and many when it is first imported, so the directory
must be in the environment before.
"""

from __future__ import annotations

__all__: list[str] = []
