"""IPsec site connections: every cross-resource rule, in the reference's order.

Create (``docs/api/ipsec-site-connections.md`` §create): the service must
exist, then the IPsec policy (``ah-esp`` refused), the service and IKE policy
as the caller sees them; the service's subnet picks legacy mode
(``peer_cidrs``) or endpoint-group mode (a local ``subnet`` group on the
service's router, a peer ``cidr`` group); both sides must share one IP
version; DPD timeout must exceed the interval; the MTU must suit the local IP
version; a peer host name is resolved and the router's gateway must have an
address of the peer's version. Update (§update) re-checks the merged values,
then refuses pending connections.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from vpnaas import errors
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.hooks.queries import gateway_ips, ip_version, subnet_on_router
from vpnaas.rules.vpnservice import refuse_pending
from vpnaas.spec.core import MIN_MTU
from vpnaas.spec.vpn import AH_ESP, ENDPOINT_CIDR, ENDPOINT_SUBNET

__all__ = ["ConnectionRules", "resolve_peer"]


def _sides(local: bool, peer: bool) -> dict[str, str]:
    """Message parts naming the local and/or peer endpoint group."""
    if local and peer:
        return {"suffix": "s", "which": "local and peer"}
    return {"suffix": "", "which": "local" if local else "peer"}


def _single_version(versions: set[int], error: errors.ApiError) -> int | None:
    if len(versions) > 1:
        raise error
    return next(iter(versions), None)


class ConnectionRules(ResourceRules):
    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        service = env.find("vpnservice", obj["vpnservice_id"], lock=True)
        missing = errors.VPNServiceNotFound(id=obj["vpnservice_id"])
        if service is None and not env.repo.ids_by(
            env.res("vpnservice"), "id", obj["vpnservice_id"]
        ):
            raise missing  # the reference cannot even pick a driver for it
        ipsecpolicy = env.lookup("ipsecpolicy", obj["ipsecpolicy_id"], lock=True)
        if ipsecpolicy["transform_protocol"] == AH_ESP:
            raise errors.IpsecValidationFailure(
                resource="IPsec Policy", key="transform_protocol", value=AH_ESP
            )
        if service is None:
            raise missing  # another project's service
        env.lookup("ikepolicy", obj["ikepolicy_id"], lock=True)
        local_version = self._check_endpoints(env, service, obj)
        self._check_dpd(obj["dpd"])
        self._check_mtu(obj["mtu"], local_version)
        obj["peer_address"] = self._peer_address(env, service, obj["peer_address"])

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        service = env.repo.get(env.res("vpnservice"), current["vpnservice_id"])
        assert service is not None  # a foreign key keeps it
        merged = {**current, **changes}
        local_version = self._check_endpoints(env, service, merged)
        self._check_dpd(merged["dpd"])
        if "mtu" in changes:
            self._check_mtu(changes["mtu"], local_version)
        if "peer_address" in changes:
            changes["peer_address"] = self._peer_address(env, service, changes["peer_address"])
        refuse_pending(current)

    # --- endpoints ---------------------------------------------------------------

    def _check_endpoints(
        self, env: RuleEnv, service: dict[str, Any], conn: dict[str, Any]
    ) -> int | None:
        """Mode rules then IP-version rules; return the local IP version."""
        local_id, peer_id = conn["local_ep_group_id"], conn["peer_ep_group_id"]
        if service["subnet_id"] is not None:
            if not conn["peer_cidrs"]:
                raise errors.MissingPeerCidrs()
            if local_id is not None or peer_id is not None:
                raise errors.InvalidEndpointGroup(
                    **_sides(local_id is not None, peer_id is not None)
                )
            return self._legacy_versions(env, service, conn["peer_cidrs"])
        if conn["peer_cidrs"]:
            raise errors.PeerCidrsInvalid()
        if local_id is None or peer_id is None:
            raise errors.MissingRequiredEndpointGroup(**_sides(local_id is None, peer_id is None))
        return self._group_versions(env, service, local_id, peer_id)

    @staticmethod
    def _legacy_versions(
        env: RuleEnv, service: dict[str, Any], peer_cidrs: list[str]
    ) -> int | None:
        peer = _single_version(
            {ip_version(c) for c in peer_cidrs}, errors.MixedIPVersionsForPeerCidrs()
        )
        local: int | None = env.repo.value(env.res("subnet"), service["subnet_id"], "ip_version")
        if local is not None and peer is not None and local != peer:
            raise errors.MixedIPVersionsForIPSecConnection()
        return local

    @staticmethod
    def _group_versions(
        env: RuleEnv, service: dict[str, Any], local_id: str, peer_id: str
    ) -> int | None:
        local = env.lookup("endpoint_group", local_id, lock=True)
        peer = env.lookup("endpoint_group", peer_id, lock=True)
        if local["type"] != ENDPOINT_SUBNET:
            raise errors.WrongEndpointGroupType(
                group=local_id, group_type=local["type"], expected=ENDPOINT_SUBNET
            )
        subnet_res = env.res("subnet")
        versions: set[int] = set()
        for subnet_id in local["endpoints"]:
            version = env.repo.value(subnet_res, subnet_id, "ip_version")
            if version is None:  # the subnet is gone: skipped, as the reference does
                continue
            if not subnet_on_router(env, service["router_id"], subnet_id):
                raise errors.SubnetIsNotConnectedToRouter(
                    subnet_id=subnet_id, router_id=service["router_id"]
                )
            versions.add(version)
        local_version = _single_version(
            versions, errors.MixedIPVersionsForIPSecEndpoints(group=local_id)
        )
        if peer["type"] != ENDPOINT_CIDR:
            raise errors.WrongEndpointGroupType(
                group=peer_id, group_type=peer["type"], expected=ENDPOINT_CIDR
            )
        peer_version = _single_version(
            {ip_version(c) for c in peer["endpoints"]},
            errors.MixedIPVersionsForIPSecEndpoints(group=peer_id),
        )
        if local_version is not None and peer_version is not None and local_version != peer_version:
            raise errors.MixedIPVersionsForIPSecConnection()
        return local_version

    # --- DPD, MTU, peer ----------------------------------------------------------

    @staticmethod
    def _check_dpd(dpd: dict[str, Any]) -> None:
        if dpd["timeout"] <= dpd["interval"]:
            raise errors.IPsecSiteConnectionDpdIntervalValueError()

    @staticmethod
    def _check_mtu(mtu: int, local_version: int | None) -> None:
        version = local_version or 4
        if mtu and mtu < MIN_MTU[version]:
            raise errors.IPsecSiteConnectionMtuError(mtu=mtu, version=version)

    @staticmethod
    def _peer_address(env: RuleEnv, service: dict[str, Any], address: str) -> str:
        resolved = resolve_peer(address, env.options.peer_hosts_file)
        version = ip_version(resolved)
        if not any(ip_version(ip) == version for ip in gateway_ips(env, service["router_id"])):
            raise errors.ExternalNetworkHasNoSubnet(
                router_id=service["router_id"], ip_version=f"IPv{version}"
            )
        return resolved


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return "%" not in value


def _valid_host_name(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    return 0 < len(name) <= 253 and all(
        0 < len(label) <= 63
        and label.replace("-", "").replace("_", "").isalnum()
        and label.isascii()
        for label in labels
    )


def resolve_peer(address: str, hosts_file: str | None = None) -> str:
    """An IP literal as given, or the first address a host name resolves to.

    With ``hosts_file`` set, names are looked up in that hosts(5) file only.
    """
    if _is_ip(address):
        return address
    if _valid_host_name(address):
        found = _from_hosts_file(address, hosts_file) if hosts_file else _from_resolver(address)
        if found is not None:
            return found
    raise errors.VPNPeerAddressNotResolved(peer_address=address)


def _from_resolver(name: str) -> str | None:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return None
    for info in infos:
        address = str(info[4][0])
        if _is_ip(address):
            return address
    return None


def _from_hosts_file(name: str, path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as hosts:
            lines = hosts.read().splitlines()
    except OSError:
        return None
    wanted = name.rstrip(".").lower()
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and wanted in (f.lower() for f in fields[1:]) and _is_ip(fields[0]):
            return fields[0]
    return None
