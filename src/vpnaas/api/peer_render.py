"""Peer configuration texts (docs/api/peer-config.md §formats): the VICI
dictionaries of :mod:`vpnaas.ipsec.translate` written as ``swanctl.conf``,
as libreswan ``ipsec.conf`` conns, or in plain words. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vpnaas.ipsec.translate import DH_GROUPS

__all__ = ["libreswan", "swanctl", "text"]

_SIMPLE = re.compile(r"^[A-Za-z0-9@._:/%+-]*$")
_PSK_HINT = "the psk is left out: ask with include_psk=true"


def _quoted(value: str) -> str:
    if _SIMPLE.match(value) and value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_quoted(str(v)) for v in value)
    return _quoted(str(value))


def _section(name: str, body: Mapping[str, Any], depth: int) -> list[str]:
    pad = "    " * depth
    lines = [f"{pad}{name} {{"]
    for key, value in body.items():
        if isinstance(value, Mapping):
            lines.extend(_section(key, value, depth + 1))
        else:
            lines.append(f"{pad}    {key} = {_value(value)}")
    lines.append(f"{pad}}}")
    return lines


def _secret(psk: str | None) -> str:
    if psk is None:
        return ""
    return psk if _SIMPLE.match(psk) and psk else "0x" + psk.encode().hex()


def swanctl(
    header: str, conn: Mapping[str, Any], secret: Mapping[str, Any], psk: str | None
) -> str:
    """A ``swanctl.conf`` with the connection and its shared secret."""
    owners = {f"id-{n}": owner for n, owner in enumerate(secret["owners"])}
    lines = [f"# {header}", *_section("connections", conn, 0), ""]
    if psk is None:
        lines.append(f"# {_PSK_HINT}; put it in secrets.ike-{secret['id']}.secret")
        lines.extend(_section("secrets", {f"ike-{secret['id']}": owners}, 0))
    else:
        body = {**owners, "secret": _secret(psk)}
        lines.extend(_section("secrets", {f"ike-{secret['id']}": body}, 0))
    return "\n".join(lines) + "\n"


# --- libreswan ------------------------------------------------------------------------

_LS_INTEG = {"sha256": "sha2_256", "sha384": "sha2_384", "sha512": "sha2_512"}


def _ls_dh(token: str) -> str:
    number = next(n for n, name in DH_GROUPS.items() if name == token)
    return token if token.startswith("modp") and number <= 18 else f"dh{number}"


def _ls_cipher(token: str) -> str:
    match = re.fullmatch(r"aes(\d+)(gcm|ccm)(\d+)", token)
    if match:
        return f"aes_{match.group(2)}{match.group(3)}_{match.group(1)}"
    match = re.fullmatch(r"aes(\d+)ctr", token)
    return f"aes_ctr{match.group(1)}" if match else token


def _ls_proposal(proposal: str) -> str:
    """A strongSwan proposal (``aes128-sha256-modp2048``) in libreswan's
    words (``aes128-sha2_256;modp2048``)."""
    parts = proposal.split("-")
    dh = _ls_dh(parts[-1])
    algs = [_ls_cipher(parts[0])]
    for part in parts[1:-1]:
        name = part.removeprefix("prf")
        algs.append(_LS_INTEG.get(name, name.replace("aesxcbc", "aes_xcbc")))
    return f"{'-'.join(algs)};{dh}"


def libreswan(header: str, conn: Mapping[str, Any], psk: str | None) -> str:
    """``ipsec.conf`` conns, one per child, and a secrets line."""
    local, remote = conn["local-psk"], conn["remote-psk"]
    common = {
        "keyexchange": "ikev2" if conn["version"] == "2" else "ikev1",
        "authby": "secret",
        "left": conn["local_addrs"][0],
        "leftid": local["id"],
        "right": conn["remote_addrs"][0],
        "rightid": remote["id"],
        "ike": _ls_proposal(conn["proposals"][0]),
        "ikelifetime": conn["rekey_time"],
        "aggressive": conn["aggressive"],
        "dpddelay": conn["dpd_delay"],
    }
    if "dpd_timeout" in conn:
        common["dpdtimeout"] = conn["dpd_timeout"]
    lines = [f"# {header}", "config setup", ""]
    for child_name, child in conn["children"].items():
        lines.append(f"conn vpn-{child_name}")
        settings = {
            **common,
            "leftsubnets": "{" + " ".join(child["local_ts"]) + "}",
            "rightsubnets": "{" + " ".join(child["remote_ts"]) + "}",
            "type": child["mode"],
            "phase2": "esp" if "esp_proposals" in child else "ah",
            "phase2alg": _ls_proposal((child.get("esp_proposals") or child.get("ah_proposals"))[0]),
            "pfs": "yes",
            "salifetime": child["life_time"],
            "auto": "start" if child["start_action"] == "start" else "add",
        }
        lines.extend(f"    {key}={value}" for key, value in settings.items())
        lines.append("")
    secret = f'"{psk}"' if psk is not None else "<psk>"
    hint = "" if psk is not None else f"   # {_PSK_HINT}"
    lines.append(f"# ipsec.secrets: {local['id']} {remote['id']} : PSK {secret}{hint}")
    return "\n".join(lines) + "\n"


def text(header: str, conn: Mapping[str, Any], psk: str | None) -> str:
    """The same settings in plain words."""
    lines = [
        header,
        "",
        f"IKE version:          {conn['version']}",
        f"this gateway:         {conn['local_addrs'][0]} (id {conn['local-psk']['id']})",
        f"remote gateway:       {conn['remote_addrs'][0]} (id {conn['remote-psk']['id']})",
        f"IKE proposal:         {conn['proposals'][0]}",
        f"IKE lifetime:         {conn['rekey_time']}",
        f"aggressive mode:      {conn['aggressive']}",
        f"dead peer detection:  every {conn['dpd_delay']}",
        f"pre-shared key:       {psk if psk is not None else '(' + _PSK_HINT + ')'}",
    ]
    for child_name, child in conn["children"].items():
        proposals = child.get("esp_proposals") or child.get("ah_proposals")
        lines += [
            "",
            f"child {child_name}:",
            f"  local networks:     {', '.join(child['local_ts'])}",
            f"  remote networks:    {', '.join(child['remote_ts'])}",
            f"  mode:               {child['mode']}",
            f"  proposal:           {proposals[0]}",
            f"  lifetime:           {child['life_time']}",
            f"  starts the tunnel:  {'yes' if child['start_action'] == 'start' else 'no'}",
        ]
    return "\n".join(lines) + "\n"
