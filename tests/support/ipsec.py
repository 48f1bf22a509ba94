"""The data-plane tests' view of the gateways (:mod:`vpnaas.lab.gateways`,
shared with ``make demo`` and the benchmark) and :class:`Capture`, the
wire check only tests make."""

from __future__ import annotations

import signal
import subprocess
import time

from vpnaas.lab.gateways import (
    CHARON,
    RETRANSMIT_TIMEOUT,
    Gateways,
    Site,
    dataplane_missing,
    gateways,
    run,
)

__all__ = [
    "CHARON",
    "RETRANSMIT_TIMEOUT",
    "Capture",
    "Gateways",
    "Site",
    "dataplane_missing",
    "gateways",
    "run",
]


class Capture:
    """tcpdump on a site's WAN veth, counting cleartext ICMP and ESP in UDP."""

    def __init__(self, site: Site, device: str = "wan0") -> None:
        self.site = site
        self.device = device
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []

    def __enter__(self) -> Capture:
        self.proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.site.netns,
                "tcpdump",
                "-n",
                "-l",
                "-i",
                self.device,
                "icmp or udp port 4500 or esp",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        seen = []
        for _ in range(5):  # "listening on wan0 ..." once it captures
            seen.append(self.proc.stderr.readline())
            if "listening" in seen[-1]:
                return self
        raise RuntimeError(f"tcpdump did not start: {seen}")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        time.sleep(0.3)
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=10)
        self.lines = out.splitlines()

    @property
    def cleartext_icmp(self) -> int:
        """Echo requests and replies seen in the clear (the tenant's pings;
        a gateway's own "port unreachable" answers to IKE do not count)."""
        return sum(1 for line in self.lines if "ICMP echo" in line)

    @property
    def esp_in_udp(self) -> int:
        return sum(1 for line in self.lines if "UDP-encap: ESP" in line)

    @property
    def raw_esp(self) -> int:
        return sum(1 for line in self.lines if "ESP(" in line and "UDP-encap" not in line)
