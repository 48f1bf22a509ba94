"""schemathesis hooks for the contract run (``SCHEMATHESIS_HOOKS``): values
for the document's ``cidr`` format, and a count of every request sent and
every answer of 500 or more, written to ``VPNAAS_CONTRACT_COUNTS`` at exit."""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import threading
from typing import Any

import schemathesis
from hypothesis import strategies as st

_LOCK = threading.Lock()
_COUNTS = {"requests": 0, "server_errors": 0}


def _v4(host: int, prefix: int) -> str:
    return str(ipaddress.IPv4Network((0x0A000000 | host, prefix), strict=False))


def _v6(host: int, prefix: int) -> str:
    base = 0x20010DB8 << 96
    return str(ipaddress.IPv6Network((base | host << 64, prefix), strict=False))


_V4 = st.builds(_v4, st.integers(0, 0xFFFFFF), st.integers(16, 30))
_V6 = st.builds(_v6, st.integers(0, 0xFFFF), st.integers(48, 64))
#: two IPv4 networks for each IPv6 one, as most stories use
schemathesis.openapi.format("cidr", st.one_of(_V4, _V4, _V6))


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    with _LOCK:
        _COUNTS["requests"] += 1
        if response.status_code >= 500:
            _COUNTS["server_errors"] += 1


@atexit.register
def _write() -> None:
    path = os.environ.get("VPNAAS_CONTRACT_COUNTS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(_COUNTS, out)
