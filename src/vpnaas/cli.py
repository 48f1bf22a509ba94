"""The ``vpnaas`` command: ``serve``, ``db upgrade|check|downgrade|current``,
``db generate-key|rotate-key``, ``policy sample``, ``agent``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Sequence
from typing import Any

from vpnaas import lifecycle
from vpnaas import settings as settings_mod

__all__ = ["main"]

LOG = logging.getLogger("vpnaas")
SERVE_ENV = "VPNAAS_SERVE"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
#: what ``vpnaas --help`` prints first: plain text for a terminal, no markup
#: how long granian waits for a worker to stop before it kills it
WORKER_GRACE = 10
DESCRIPTION = "The OpenStack VPNaaS v2.0 API server and its administration commands."


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config-file",
        action="append",
        default=[],
        metavar="PATH",
        help="oslo.config INI file (repeatable; later files win)",
    )
    parser.add_argument("--database-url", help="overrides [database] connection")


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpnaas", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server (granian, WSGI)")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 9696)")
    serve.add_argument("--workers", type=_positive, help="worker processes (default 1)")
    serve.add_argument(
        "--threads",
        type=_positive,
        help="request threads per worker (default: 1 on SQLite, else the pool size)",
    )
    serve.add_argument("--auth-strategy", choices=["noauth", "keystone"])
    serve.add_argument(
        "--no-response-cache",
        dest="response_cache",
        action="store_false",
        default=None,
        help="build every list and show afresh (overrides [DEFAULT] response_cache)",
    )
    serve.add_argument(
        "--driver",
        choices=["null", "strongswan"],
        help="data plane (default null); strongswan also serves the agent API",
    )
    db = sub.add_parser("db", help="manage the database schema")
    db.add_argument(
        "action",
        choices=["upgrade", "check", "downgrade", "current", "generate-key", "rotate-key"],
        help="upgrade: migrate to this release and seed; check: compare the schema "
        "with this release; downgrade: step back one migration; current: print the "
        "revision; generate-key: print a new secret key; rotate-key: re-encrypt every "
        "secret under the first key",
    )
    _common(db)
    pol = sub.add_parser("policy", help="policy helpers")
    pol.add_argument(
        "action", choices=["sample"], help="sample: print every default rule, commented out"
    )
    from vpnaas.agent.main import add_arguments

    add_arguments(sub.add_parser("agent", help="run a gateway's agent (strongSwan over VICI)"))
    return parser


def _settings(args: argparse.Namespace, **extra: object) -> settings_mod.Settings:
    return settings_mod.load(args.config_file, database_url=args.database_url, **extra)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "db":
        return manage_db(args)
    if args.command == "agent":
        from vpnaas.agent.main import run

        return run(args)
    return policy_sample()


def manage_db(args: argparse.Namespace) -> int:
    from vpnaas.db import migrate
    from vpnaas.db.engine import create_engine
    from vpnaas.db.secrets import generate_key

    if args.action == "generate-key":
        print(generate_key())
        return 0
    settings = _settings(args)
    if args.action == "rotate-key":
        return rotate_key(settings)
    engine = create_engine(settings.database_url, settings.pool)
    try:
        if args.action == "upgrade":
            migrate.upgrade(engine)
            _seed(settings)
        elif args.action == "downgrade":
            migrate.downgrade(engine)
        elif args.action == "current":
            print(migrate.current(engine) or "none")
        else:
            diffs = migrate.check(engine)
            for diff in diffs:
                print(diff)
            if diffs:
                print("the database schema differs from this release's tables", file=sys.stderr)
                return 1
            print("the database schema matches")
    finally:
        engine.dispose()
    return 0


def rotate_key(settings: settings_mod.Settings) -> int:
    """Seal every stored secret under the first configured key; a key
    problem is one error line, never a traceback."""
    from vpnaas.db import rekey
    from vpnaas.db.secrets import SecretKeyError

    try:
        count = rekey.rotate_configured(settings)
    except SecretKeyError as exc:
        LOG.error("%s", exc)
        return 1
    print(f"sealed {count} secret(s) under the first key")
    return 0


def _check_keys(settings: settings_mod.Settings) -> None:
    """Refuse to serve when the keys cannot open what the database holds."""
    from vpnaas.db import rekey
    from vpnaas.db.secrets import SecretKeyError

    try:
        rekey.check_configured(settings)
    except SecretKeyError as exc:
        LOG.error("cannot serve: %s", exc)
        sys.exit(1)


def _seed(settings: settings_mod.Settings) -> None:
    from vpnaas.app import create_app
    from vpnaas.topology.seed import seed_external_network

    app = create_app(settings)
    try:
        seed_external_network(app.controller, settings.seed)
    finally:
        app.db.dispose()


def serve(args: argparse.Namespace) -> int:
    """Migrate (SQLite) or check the schema and seed, in a child process, so
    that granian's main process holds none of the application; then serve.

    SIGTERM and SIGINT stop it at any moment (docs/decisions.md): until
    granian takes them over they end this process through ``finally``, which
    stops the children started so far."""
    overrides = {
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "threads": args.threads,
        "auth_strategy": args.auth_strategy,
        "response_cache": args.response_cache,
        "driver": args.driver,
    }
    settings = _settings(args, **overrides)
    stopping = lifecycle.StopMarker()
    spec = {
        "config_files": args.config_file,
        "overrides": {"database_url": args.database_url, **overrides},
        "stop_marker": str(stopping.path),
    }
    from vpnaas.metrics.listener import MetricsListener

    lifecycle.exit_on_signals()
    children: list[multiprocessing.process.BaseProcess] = []
    metrics: MetricsListener | None = None
    try:
        if not _prepared(spec, children):
            return 1
        os.environ[SERVE_ENV] = json.dumps(spec)
        LOG.info(
            "serving on http://%s:%s/ with %s worker(s) of %s thread(s) on the %s event loop",
            settings.host,
            settings.port,
            settings.workers,
            settings.request_threads,
            api_loop(),
        )
        metrics = MetricsListener.start(settings, run_granian)  # before any process that records
        if metrics is not None:
            children.append(metrics.process)
        children.extend(start_agent_listener(settings))
        run_granian(
            "vpnaas.wsgi:bridge_from_environment",
            settings.host,
            settings.port,
            settings.workers,
            interface="rsgi",
            http1=api_http1(settings),
            loop=api_loop(),
        )
    finally:
        lifecycle.ignore_signals()
        stopping.set()  # waiting long polls answer at once
        lifecycle.stop_children(children)
        stopping.remove()
        if metrics is not None:
            metrics.stop()  # its directory goes once every process that records has
    return 0


def _prepared(spec: dict[str, Any], children: list[multiprocessing.process.BaseProcess]) -> bool:
    """Run :func:`prepare` in a child process; whether it succeeded."""
    child = multiprocessing.get_context("spawn").Process(target=prepare, args=(spec,))
    children.append(child)
    child.start()
    child.join()
    children.remove(child)
    return child.exitcode == 0


def start_agent_listener(
    settings: settings_mod.Settings,
) -> list[multiprocessing.process.BaseProcess]:
    """With the strongswan driver, serve the agent API on its own listener
    (a second granian server, in a child process: its long polls hold only
    its own threads, never one the API needs). The child started, if any."""
    if settings.driver != "strongswan":
        return []
    opts = settings.agent_api
    LOG.info(
        "serving the agent API on http://%s:%s/ with %s thread(s)",
        opts.host,
        opts.port,
        opts.threads,
    )
    child = multiprocessing.get_context("spawn").Process(
        target=run_granian,
        args=("vpnaas.wsgi:agent_from_environment", opts.host, opts.port, 1, opts.threads),
        name="vpnaas-agent-api",
    )
    child.start()
    return [child]


def api_http1(settings: settings_mod.Settings) -> Any:
    """granian's HTTP/1 settings for the API: the header deadline, and a
    head buffer that holds a request within the front's own limits (URL,
    100 header lines of ``max_header_line``), so that those limits, not
    granian's bare answers, decide (docs/decisions.md)."""
    from granian.http import HTTP1Settings

    head = settings.max_url_length + 100 * (settings.max_header_line + 4) + 4096
    return HTTP1Settings(
        header_read_timeout=int(settings.header_timeout * 1000),
        max_buffer_size=max(head, HTTP1Settings.max_buffer_size),
    )


def api_loop() -> str:
    """The event loop the front runs on: on uvloop (granian's ``uvloop``
    extra, a dependency) a request that reaches the loop costs a sixth to a
    fifth less CPU than on asyncio's own loop (docs/decisions.md,
    "Serving"); asyncio's loop only where uvloop is not installed."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def run_granian(
    factory: str,
    host: str,
    port: int,
    workers: int,
    threads: int = 1,
    *,
    interface: str = "wsgi",
    http1: Any = None,
    loop: str = "asyncio",
) -> None:
    """Serve the application ``factory`` builds with granian until stopped.

    ``interface`` ``wsgi`` runs it on ``threads`` blocking threads per worker
    (granian's default is half its backpressure, hundreds; the benchmark's
    ceilings use this call, so they run on the same stack); ``rsgi`` is
    for :class:`vpnaas.api.bridge.Bridge`, which keeps its own threads and
    runs on the event ``loop`` (:func:`api_loop`). A worker that dies is
    started again (granian gives up, and the server exits, when the same
    worker dies twice within a few seconds)."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    # granian forks its workers by default, and a forked worker inherits the
    # main process's signal handler: a SIGTERM that reaches it before it
    # installs its own is swallowed, and granian waits on it for ever. A
    # spawned worker dies of that signal instead.
    multiprocessing.set_start_method("spawn", force=True)
    Granian(
        factory,
        address=host,
        port=port,
        interface=Interfaces(interface),
        loop=Loops(loop),
        workers=workers,
        blocking_threads=threads,
        factory=True,
        log_access=False,
        http1_settings=http1,
        respawn_failed_workers=True,
        workers_kill_timeout=WORKER_GRACE,
    ).serve()


def prepare(spec: dict[str, Any]) -> None:
    """Make the database ready to serve: migrate a SQLite file (production
    databases are migrated with ``vpnaas db upgrade``) and seed."""
    from vpnaas.db import migrate
    from vpnaas.db.engine import create_engine

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = settings_mod.load(spec["config_files"], **spec["overrides"])
    engine = create_engine(settings.database_url, settings.pool)
    try:
        if engine.dialect.name == "sqlite":
            migrate.upgrade(engine)
        elif migrate.differences(engine):
            LOG.error("the database schema is not current: run `vpnaas db upgrade` first")
            sys.exit(1)
    finally:
        engine.dispose()
    _check_keys(settings)
    _seed(settings)


def policy_sample() -> int:
    from oslo_policy import generator

    generator.generate_sample(args=["--namespace", "vpnaas"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
