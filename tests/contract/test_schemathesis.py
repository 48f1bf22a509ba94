"""The served OpenAPI document is a contract the server keeps: schemathesis
generates requests from it against a real ``vpnaas serve`` process,
statelessly over every operation and statefully along the document's links,
and every answer must be below 500 and conform to the document.

schemathesis' own numbers (requests, failures, time) go to
``<workdir>/schemathesis.log``; the counts to ``counts.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import running_server

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
#: every check that compares an answer with the document, plus the ones that
#: follow objects through their lifecycle (positive_data_acceptance and
#: negative_data_rejection are left out: Neutron's converters accept more than
#: the canonical shapes the document gives, and rules beyond any schema refuse
#: much of what a schema allows)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "use_after_free",
    "unsupported_method",
    "allow_header_conformance",
)
MIN_REQUESTS = 10_000
#: bounds the whole run; it normally ends by itself well before
TIMEOUT = 900


def test_the_server_keeps_its_openapi_contract(tmp_path: Path) -> None:
    counts = tmp_path / "counts.json"
    log = tmp_path / "schemathesis.log"
    with running_server(tmp_path / "server") as server:
        base = server.url.rstrip("/")
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{base}/v2.0/openapi.json",
            "--url",
            base,
            "--header",
            "X-Project-Id: contract-project",
            "--header",
            "X-Roles: admin",
            "--checks",
            ",".join(CHECKS),
            "--workers",
            "2",
            "--no-color",
        ]
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
            "VPNAAS_CONTRACT_COUNTS": str(counts),
            "PYTHONPATH": str(ROOT),
        }
        with log.open("wb") as out:
            done = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,  # where it keeps its own state
                timeout=TIMEOUT,
                check=False,
            )
        server_log = server.log()
    report = log.read_text("utf-8", "replace")
    assert done.returncode == 0, report[-20000:]
    found = json.loads(counts.read_text("utf-8"))
    assert found["server_errors"] == 0, report[-20000:]
    assert found["requests"] >= MIN_REQUESTS, found
    assert "Traceback" not in server_log, server_log[-5000:]
