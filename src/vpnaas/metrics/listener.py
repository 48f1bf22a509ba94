"""The metrics listener of ``vpnaas serve``: the private directory its
processes share, the process serving ``/metrics``, and that application.

prometheus_client's multiprocess mode: each process that records (the API
workers, the agent API) keeps its samples in memory-mapped files of the
directory named by ``PROMETHEUS_MULTIPROC_DIR``; the listener adds up the
files of every process, live or gone (a worker that died keeps its counts),
and the database gauges of :class:`~vpnaas.metrics.collector.DatabaseCollector`.
``vpnaas serve`` creates a fresh directory before it starts any of them and
removes it when it stops.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vpnaas.settings import Settings

__all__ = ["DIRECTORY_ENV", "MetricsListener", "metrics_app"]

LOG = logging.getLogger(__name__)
#: the variable prometheus_client reads, when first imported, for the directory
DIRECTORY_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: threads of the listener: a scrape at a time, and one more
THREADS = 2


@dataclass
class MetricsListener:
    """The directory and the listener's process, while ``vpnaas serve`` runs."""

    directory: str
    process: multiprocessing.process.BaseProcess

    @classmethod
    def start(cls, settings: Settings, serve: Callable[..., None]) -> MetricsListener | None:
        """With ``[metrics] enabled``: a fresh directory in the environment
        (so call this before starting any process that records), and
        ``serve(factory, host, port, workers, threads)`` in a child process."""
        if not settings.metrics.enabled:
            return None
        directory = tempfile.mkdtemp(prefix="vpnaas-metrics-")
        os.environ[DIRECTORY_ENV] = directory
        opts = settings.metrics
        LOG.info("serving metrics on http://%s:%s/metrics", opts.host, opts.port)
        process = multiprocessing.get_context("spawn").Process(
            target=serve,
            args=("vpnaas.wsgi:metrics_from_environment", opts.host, opts.port, 1, THREADS),
            name="vpnaas-metrics",
        )
        process.start()
        return cls(directory, process)

    def stop(self) -> None:
        """End the listener and remove the directory."""
        self.process.terminate()
        self.process.join(10)
        os.environ.pop(DIRECTORY_ENV, None)
        shutil.rmtree(self.directory, ignore_errors=True)


def metrics_app(settings: Settings) -> Any:
    """The WSGI application answering ``GET /metrics``: the samples of every
    process sharing ``$PROMETHEUS_MULTIPROC_DIR``, and the database's."""
    from prometheus_client import CollectorRegistry, make_wsgi_app
    from prometheus_client.multiprocess import MultiProcessCollector

    from vpnaas.db import tables
    from vpnaas.db.engine import Database
    from vpnaas.metrics.collector import DatabaseCollector

    directory = os.environ.get(DIRECTORY_ENV)
    if not directory:
        raise RuntimeError(f"{DIRECTORY_ENV} names no directory: nothing to add up")
    registry = CollectorRegistry()
    MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
    registry.register(
        DatabaseCollector(Database(settings.database_url, settings.pool), tables.schema())
    )
    return make_wsgi_app(registry)
