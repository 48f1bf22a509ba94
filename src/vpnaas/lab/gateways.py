"""Two IPsec gateways in network namespaces, each with its own charon, for
the data-plane tests, ``make demo`` and the data-plane benchmark (after the
strongSwan lab's recipe; see docs/agent.md).

    vpt<N>a: wan0 192.0.2.1/24 ── veth ── wan0 192.0.2.2/24 :vpt<N>b
             lan0 10.1.0.1/24 (veth lan0/lan0p)      lan0 10.2.0.1/24
             default via 192.0.2.2                   default via 192.0.2.1

The default routes make a cleartext leak possible, so "no cleartext on the
wire" means something. Each charon (kernel-libipsec before kernel-netlink,
userspace ESP in UDP 4500) runs with its own generated strongswan.conf
(``STRONGSWAN_CONF``) in a private mount namespace with a tmpfs over
``/run`` (plain charon insists on ``/run/charon.pid``); its VICI socket,
log and config live under ``/var/lib/vpnaas-test-<random>/<netns>/``
(never under ``/run``, which that tmpfs hides). Retransmissions are fast
(0.5 s, 2 tries) so IKEv2 DPD acts within seconds. Extra LAN addresses
(one inside each local traffic selector, as kernel-libipsec needs) are
added before charon starts: charon misses addresses added in bulk while it
runs (docs/agent.md).

Everything is torn down by :meth:`Gateways.close`: charons killed by PID,
namespaces deleted, the state directory removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CHARON",
    "RETRANSMIT_TIMEOUT",
    "Gateways",
    "Site",
    "dataplane_missing",
    "gateways",
    "run",
]

CHARON = "/usr/lib/ipsec/charon"
LIBIPSEC = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"
PLUGINS = (
    "random nonce aes sha1 sha2 md5 hmac gmp openssl curve25519 ctr ccm gcm xcbc cmac kdf "
    "pem pkcs1 x509 kernel-libipsec kernel-netlink socket-default vici"
)
RETRANSMIT_TIMEOUT = 0.5
RETRANSMIT_TRIES = 2

CONF = """\
charon {{
  load = {plugins}
  install_routes = yes
  routing_table = 220
  retransmit_timeout = {timeout}
  retransmit_tries = {tries}
  i_dont_care_about_security_and_use_aggressive_mode_psk = yes
{extra}  plugins {{
    vici {{
      socket = unix://{dir}/charon.vici
    }}
    kernel-netlink {{
      receive_buffer_size = 8388608
      force_receive_buffer_size = yes
    }}
  }}
  filelog {{
    main {{
      path = {dir}/charon.log
      time_format = %b %e %T
      time_add_ms = yes
      flush_line = yes
      default = 1
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
}}
"""


def dataplane_missing() -> str | None:
    """Why the data-plane tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for path, package in (
        (CHARON, "strongswan-charon"),
        (LIBIPSEC, "libcharon-extra-plugins"),
        ("/usr/bin/tcpdump", "tcpdump"),
        ("/usr/bin/ping", "iputils-ping"),
    ):
        if not os.path.exists(path):
            return f"{path} missing (apt-get install {package})"
    return None


def run(*cmd: str, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout)


@dataclass
class Site:
    """One gateway: namespace, addresses, charon."""

    netns: str
    wan: str
    lan: str
    lan_cidr: str
    dir: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def vici(self) -> str:
        return f"unix://{self.dir}/charon.vici"

    @property
    def conf(self) -> Path:
        return self.dir / "strongswan.conf"

    def ip(self, *args: str, check: bool = True) -> str:
        return run("ip", "-n", self.netns, *args, check=check).stdout

    def exec(
        self, *cmd: str, check: bool = False, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.netns, *cmd, check=check, timeout=timeout)

    def start_charon(self) -> None:
        """Start this site's charon and wait for its VICI socket."""
        sock = self.dir / "charon.vici"
        sock.unlink(missing_ok=True)
        with (self.dir / "stdout.log").open("ab") as out:
            proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    "mount -t tmpfs -o mode=0755 vpnaas-test-run /run && exec " + CHARON,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "STRONGSWAN_CONF": str(self.conf)},
            )
        self.proc = proc  # ip netns exec, unshare and sh all exec: its PID is charon's
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not sock.exists():
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if not sock.exists():
            raise RuntimeError(f"charon in {self.netns} did not start: {self.log()[-2000:]}")

    def charon_alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            return Path(f"/proc/{self.pid}/comm").read_text().startswith("charon")
        except OSError:
            return False

    def kill_charon(self, sig: int = signal.SIGKILL) -> None:
        """Stop this site's charon by its PID and wait until it is gone."""
        if self.proc is None:
            return
        if self.charon_alive():
            os.kill(self.proc.pid, sig)
        self.proc.wait(10)
        self.proc = None

    def log(self) -> str:
        try:
            return (self.dir / "charon.log").read_text("utf-8", "replace")
        except OSError:
            return ""

    def ping(self, dst: str, count: int = 20, interval: float = 0.05) -> tuple[int, int]:
        """Ping ``dst`` from this site's LAN address: (sent, received)."""
        proc = self.exec(
            "ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1", "-I", self.lan, dst
        )
        match = re.search(r"(\d+) packets transmitted, (\d+) received", proc.stdout)
        return (int(match[1]), int(match[2])) if match else (0, 0)

    def routes(self, table: str) -> str:
        return self.ip("route", "show", "table", table, check=False)


@dataclass
class Gateways:
    """Sites ``a`` and ``b`` joined by their WAN veth."""

    state: Path
    a: Site
    b: Site
    namespaces: list[str] = field(default_factory=list)

    def close(self) -> None:
        for site in (self.a, self.b):
            with contextlib.suppress(OSError):
                site.kill_charon(signal.SIGKILL)
        for ns in self.namespaces:
            run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.state, ignore_errors=True)


def _site(state: Path, netns: str, addrs: tuple[str, str, str], charon: Mapping[str, str]) -> Site:
    wan, lan_cidr, lan = addrs
    site = Site(netns=netns, wan=wan, lan=lan, lan_cidr=lan_cidr, dir=state / netns)
    site.dir.mkdir(parents=True)
    extra = "".join(f"  {key} = {value}\n" for key, value in charon.items())
    site.conf.write_text(
        CONF.format(
            plugins=PLUGINS,
            timeout=RETRANSMIT_TIMEOUT,
            tries=RETRANSMIT_TRIES,
            dir=site.dir,
            extra=extra,
        ),
        encoding="utf-8",
    )
    return site


def _build(gw: Gateways, extra: tuple[Sequence[str], Sequence[str]]) -> None:
    a, b = gw.a, gw.b
    for site in (a, b):
        run("ip", "netns", "add", site.netns)
        gw.namespaces.append(site.netns)
        site.ip("link", "set", "lo", "up")
    run("ip", "link", "add", "wan0", "netns", a.netns, "type", "veth", "peer", "name", "wan0",
        "netns", b.netns)  # fmt: skip
    for site, peer in ((a, b), (b, a)):
        site.ip("addr", "add", f"{site.wan}/24", "dev", "wan0")
        site.ip("link", "set", "wan0", "up")
        # no dummy driver on this kernel: the LAN is a veth pair inside the namespace
        site.ip("link", "add", "lan0", "type", "veth", "peer", "name", "lan0p")
        site.ip("addr", "add", f"{site.lan}/24", "dev", "lan0")
        site.ip("link", "set", "lan0p", "up")
        site.ip("link", "set", "lan0", "up")
        site.ip("route", "add", "default", "via", peer.wan)
    for site, addresses in zip((a, b), extra, strict=True):
        if addresses:
            batch = "".join(f"addr add {address} dev lan0\n" for address in addresses)
            subprocess.run(
                ["ip", "-n", site.netns, "-batch", "-"],
                input=batch,
                text=True,
                check=True,
                capture_output=True,
                timeout=60,
            )


@contextlib.contextmanager
def gateways(
    state: Path | None = None,
    names: tuple[str, str] | None = None,
    *,
    extra_lan: tuple[Sequence[str], Sequence[str]] = ((), ()),
    charon: Mapping[str, str] | None = None,
) -> Iterator[Gateways]:
    """Build both sites and start both charons; tear everything down after.

    ``state`` (default ``/var/lib/vpnaas-test-<random>``) must not exist;
    ``names`` are the two namespaces (default ``vpt<N>a``/``vpt<N>b``);
    ``extra_lan`` holds addresses (``10.11.0.1/28``) for each site's LAN
    device; ``charon`` adds options to the ``charon`` section of both
    strongswan.conf files (e.g. the DoS thresholds of a bulk bring-up).
    """
    tag = secrets.token_hex(3)
    n = int(tag, 16) % 10000
    state = state or Path(f"/var/lib/vpnaas-test-{tag}")
    names = names or (f"vpt{n}a", f"vpt{n}b")
    opts = dict(charon or {})
    gw = Gateways(
        state=state,
        a=_site(state, names[0], ("192.0.2.1", "10.1.0.0/24", "10.1.0.1"), opts),
        b=_site(state, names[1], ("192.0.2.2", "10.2.0.0/24", "10.2.0.1"), opts),
    )
    try:
        _build(gw, extra_lan)
        gw.a.start_charon()
        gw.b.start_charon()
        yield gw
    finally:
        gw.close()
