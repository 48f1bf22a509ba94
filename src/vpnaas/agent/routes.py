"""Routes the agent keeps in the gateway's network namespace.

Fail closed: charon (kernel-libipsec) routes a connection's peer CIDRs into
its TUN device from table 220 only while a CHILD SA is installed; without
one, traffic would follow the main table and leave in cleartext. Every
peer CIDR of an existing connection (admin-down included) therefore has an
``unreachable`` route in table 221, looked up right after 220 (rule
preference 221), until the connection is deleted.

MTU: kernel-libipsec has no per-connection MTU; the connection's ``mtu`` is
set on its table-220 routes, and again after charon re-creates them (each
CHILD SA coming up). A table-220 route charon lost while its CHILD SA is
installed is put back.

Every change runs ``ip -n NETNS …`` (plain ``ip`` without a namespace).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import subprocess
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

__all__ = ["FAIL_CLOSED_TABLE", "IpError", "Routes", "Tunnel"]

LOG = logging.getLogger(__name__)

CHARON_TABLE = "220"
FAIL_CLOSED_TABLE = "221"
FAIL_CLOSED_PREF = "221"
TUN_DEVICE = "ipsec0"


@dataclass(frozen=True)
class Tunnel:
    """What the route of one peer CIDR of an installed CHILD SA needs."""

    local_cidrs: tuple[str, ...]
    mtu: int


class IpError(Exception):
    """An ``ip`` command failed."""


@functools.lru_cache(maxsize=65536)
def _family(cidr: str) -> str:
    return "-6" if ipaddress.ip_network(cidr, strict=False).version == 6 else "-4"


class Routes:
    """``ip`` in one namespace (or the agent's own when ``netns`` is None)."""

    def __init__(self, netns: str | None) -> None:
        self.netns = netns

    def ip(self, *args: str, check: bool = True) -> str:
        """Run ``ip …`` in the namespace; its output ("" on failure unless
        ``check``, then :class:`IpError`)."""
        cmd = ["ip", *(["-n", self.netns] if self.netns else []), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
        if proc.returncode != 0:
            if check:
                raise IpError(f"{' '.join(cmd)}: {proc.stderr.strip()}")
            return ""
        return proc.stdout

    def batch(self, commands: Sequence[Sequence[str]]) -> str:
        """Run many ``ip`` commands in one process (``-batch``; ``-force``
        goes on past a failure); its complaints, "" when there were none.
        Putting back 500 routes one process each took 10 s."""
        if not commands:
            return ""
        cmd = ["ip", *(["-n", self.netns] if self.netns else []), "-force", "-batch", "-"]
        lines = "".join(" ".join(args) + "\n" for args in commands)
        proc = subprocess.run(  # noqa: S603
            cmd, input=lines, capture_output=True, text=True, timeout=60, check=False
        )
        return proc.stderr.strip() if proc.returncode != 0 else ""

    def _json(self, *args: str) -> list[dict[str, Any]]:
        """``ip -j …`` decoded; [] when there is nothing (a table that does
        not exist yet, a missing device)."""
        out = self.ip("-j", *args, check=False).strip()
        return list(json.loads(out)) if out else []

    # --- fail closed ---------------------------------------------------------

    def fail_closed(self) -> set[str]:
        """The peer CIDRs now blocked in table 221."""
        found: set[str] = set()
        for family in ("-4", "-6"):
            for route in self._json(family, "route", "show", "table", FAIL_CLOSED_TABLE):
                if route.get("type") in ("unreachable", "blackhole", "prohibit"):
                    found.add(str(ipaddress.ip_network(route["dst"], strict=False)))
        return found

    def _rule(self, family: str, present: bool) -> None:
        rules = self._json(family, "rule", "show", "pref", FAIL_CLOSED_PREF)
        if present and not rules:
            self.ip(family, "rule", "add", "pref", FAIL_CLOSED_PREF, "lookup", FAIL_CLOSED_TABLE)
        elif not present:
            for _ in rules:
                self.ip(family, "rule", "del", "pref", FAIL_CLOSED_PREF, check=False)

    def sync_fail_closed(self, cidrs: Set[str]) -> None:
        """Make table 221 block exactly ``cidrs`` (and keep its rule while
        there is something to block)."""
        wanted = {str(ipaddress.ip_network(c, strict=False)) for c in cidrs}
        have = self.fail_closed()
        for family in ("-4", "-6"):
            if any(_family(c) == family for c in wanted):
                self._rule(family, True)
        # one ``ip`` for all (it reads each CIDR's family): 500 connections
        # loaded at a start took 3.4 s as one process each
        failed = self.batch(
            [
                *(["route", "replace", "unreachable", c, "table", FAIL_CLOSED_TABLE]
                  for c in sorted(wanted - have)),
                *(["route", "del", c, "table", FAIL_CLOSED_TABLE] for c in sorted(have - wanted)),
            ]
        )  # fmt: skip
        if failed:
            missing = wanted - self.fail_closed()
            if missing:
                raise IpError(f"fail-closed routes not set for {sorted(missing)}: {failed}")
        for family in ("-4", "-6"):
            if not any(_family(c) == family for c in wanted):
                self._rule(family, False)

    # --- tunnel routes and MTU ------------------------------------------------

    def tun_mtu(self) -> int | None:
        links = self._json("link", "show", "dev", TUN_DEVICE)
        return int(links[0]["mtu"]) if links else None

    def _addresses(self) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """The namespace's IPv4 addresses, in ``ip``'s order."""
        return [
            ipaddress.ip_address(info["local"])
            for link in self._json("-4", "addr", "show")
            for info in link.get("addr_info", [])
        ]

    @staticmethod
    def _source(
        addresses: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address],
        local_cidrs: Sequence[str],
    ) -> str | None:
        """A local address inside one of ``local_cidrs`` (kernel-libipsec
        routes from it)."""
        nets = [ipaddress.ip_network(c, strict=False) for c in local_cidrs]
        return next((str(a) for a in addresses if any(a in net for net in nets)), None)

    def sync_tunnel(self, wanted: Mapping[str, Tunnel]) -> int:
        """Give each peer CIDR of an installed CHILD SA its table-220 route
        into the TUN device, with the connection's MTU (none when it is not
        below the device's). charon installs these routes; this sets the
        MTU it cannot, and puts back a route charon dropped (it does when
        one of two CHILD SAs with the same selectors ends). Returns how many
        routes were written."""
        dev_mtu = self.tun_mtu()
        if dev_mtu is None or not wanted:
            return 0
        have: dict[str, dict[str, Any]] = {}
        for entry in self._json("-4", "route", "show", "table", CHARON_TABLE):
            dst = entry.get("dst", "")
            have[str(ipaddress.ip_network(dst if "/" in dst else f"{dst}/32"))] = entry
        commands = []
        addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] | None = None
        for cidr, tunnel in wanted.items():
            want_mtu = tunnel.mtu if tunnel.mtu < dev_mtu else None
            route = have.get(cidr)
            if route is not None:
                metrics = route.get("metrics", [])
                if next((m.get("mtu") for m in metrics if "mtu" in m), None) == want_mtu:
                    continue
                src = route.get("prefsrc")
            else:
                if addresses is None:  # read once: 500 routes may be missing at once
                    addresses = self._addresses()
                src = self._source(addresses, tunnel.local_cidrs)
                LOG.warning("route of %s missing in table %s: adding it", cidr, CHARON_TABLE)
            args = ["route", "replace", cidr, "dev", TUN_DEVICE, "table", CHARON_TABLE]
            args += ["proto", "static", "scope", "global"]  # as charon adds it, so it can delete it
            args += ["src", src] if src else []
            args += ["mtu", str(want_mtu)] if want_mtu else []
            commands.append(args)
        failed = self.batch(commands)
        if failed:  # charon may have removed one meanwhile
            LOG.warning("routes not all set: %s", failed)
        changed = len(commands)
        return changed
