"""The entry point other WSGI servers load: ``vpnaas.wsgi:application``."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

import pytest

from vpnaas import wsgi
from vpnaas.cli import main


def test_application_reads_the_config_file_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/wsgi.sqlite"
    conf = tmp_path / "vpnaas.conf"
    conf.write_text(f"[database]\nconnection = {url}\n[topology]\nexternal_network_name = ext\n")
    assert main(["db", "upgrade", "--config-file", str(conf)]) == 0
    monkeypatch.setenv("VPNAAS_CONFIG_FILE", str(conf))
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        started.append(status)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/v2.0/networks",
        "QUERY_STRING": "",
        "SERVER_NAME": "vpnaas.test",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "HTTP_X_PROJECT_ID": "p",
    }
    body = b"".join(wsgi.make_application()(environ, start_response))
    assert started == ["200 OK"]
    assert b'"name":"ext"' in body


def test_metrics_application_needs_the_shared_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/metrics.sqlite"
    conf = tmp_path / "vpnaas.conf"
    conf.write_text(f"[database]\nconnection = {url}\n")
    assert main(["db", "upgrade", "--config-file", str(conf)]) == 0
    monkeypatch.setenv("VPNAAS_CONFIG_FILE", str(conf))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR"):
        wsgi.make_metrics_application()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        started.append(status)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": ""}
    body = b"".join(wsgi.make_metrics_application()(environ, start_response))
    assert started == ["200 OK"]
    assert b"\nvpnaas_database_up 1.0\n" in body
    assert b'vpnaas_ipsec_site_connections{status="ACTIVE"} 0.0' in body


def test_the_front_hooks_granians_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    # vpnaas serve's workers answer bodyless requests before the event loop
    # (docs/decisions.md, "Serving"); a granian whose internals moved would
    # silently lose that, so the granian installed is checked here
    from granian._granian import CallbackScheduler
    from granian.server import mp

    from vpnaas.api.bridge import Bridge, FrontLimits, answer_bodyless_first

    granians: Any = vars(mp)["_new_cbscheduler"]
    monkeypatch.setattr(mp, "_new_cbscheduler", granians)  # put back afterwards
    assert answer_bodyless_first(Bridge(wsgi.metrics_application, FrontLimits()))
    loop = asyncio.new_event_loop()
    try:
        ours = vars(mp)["_new_cbscheduler"](loop, lambda watcher: None, impl_asyncio=True)
        theirs = granians(loop, lambda watcher: None, impl_asyncio=True)
    finally:
        loop.close()
    assert isinstance(ours, CallbackScheduler)
    assert type(ours) is not type(theirs)
