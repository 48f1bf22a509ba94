"""The extensions this server implements, as ``GET /v2.0/extensions`` lists them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Extension", "extensions"]


@dataclass(frozen=True)
class Extension:
    alias: str
    name: str
    description: str
    updated: str

    def document(self) -> dict[str, object]:
        return {
            "name": self.name,
            "alias": self.alias,
            "description": self.description,
            "updated": self.updated,
            "links": [],
        }


_ALL = (
    Extension("vpnaas", "VPN service", "Extension for VPN service", "2013-05-29T10:00:00-00:00"),
    Extension(
        "vpn-endpoint-groups",
        "VPN Endpoint Groups",
        "VPN endpoint groups support",
        "2015-08-04T10:00:00-00:00",
    ),
    Extension(
        "vpn-flavors",
        "VPN Service Flavor Extension",
        "Flavor support for vpnservices.",
        "2017-04-19T00:00:00-00:00",
    ),
    Extension(
        "vpn-aes-ctr",
        "VPN support for AES CTR mode",
        "Add AES CTR choices for encryption algorithm",
        "2024-01-09T09:00:00-00:00",
    ),
    Extension(
        "vpn-no-sha1-3des",
        "VPN remove deprecated sha1 and 3des",
        "Remove sha1 auth and 3des encryption from VPN policies",
        "2025-03-30T09:00:00-00:00",
    ),
    Extension(
        "router",
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and "
        "access to external networks via a NAT gateway.",
        "2012-07-20T10:00:00-00:00",
    ),
    Extension(
        "agent",
        "agent",
        "The agent management extension.",
        "2013-02-03T10:00:00-00:00",
    ),
    Extension(
        "external-net",
        "Neutron external network",
        "Adds external network attribute to network resource.",
        "2013-01-14T10:00:00-00:00",
    ),
    Extension(
        "ext-gw-mode",
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should occur "
        "on the external gateway",
        "2013-03-28T10:00:00-00:00",
    ),
    Extension(
        "net-mtu",
        "Network MTU",
        "Provides MTU attribute for a network resource.",
        "2015-03-25T10:00:00-00:00",
    ),
    Extension(
        "net-mtu-writable",
        "Network MTU (writable)",
        "Provides a writable MTU attribute for a network resource.",
        "2017-07-12T00:00:00-00:00",
    ),
    Extension(
        "standard-attr-description",
        "standard-attr-description",
        "Extension to add descriptions to standard attributes",
        "2016-02-10T10:00:00-00:00",
    ),
    Extension(
        "project-id",
        "project_id field enabled",
        "Extension that indicates that project_id field is enabled.",
        "2016-09-09T09:09:09-09:09",
    ),
    Extension(
        "filter-validation",
        "Filter parameters validation",
        "Provides validation on filter parameters.",
        "2018-07-04T10:00:00-00:00",
    ),
    Extension(
        "empty-string-filtering",
        "Empty String Filtering Extension",
        "Allow filtering by attributes with empty string value",
        "2018-05-01T10:00:00-00:00",
    ),
)


def extensions(*, legacy_crypto: bool) -> tuple[Extension, ...]:
    """What this server advertises; ``vpn-no-sha1-3des`` only with its semantics."""
    return tuple(e for e in _ALL if not (legacy_crypto and e.alias == "vpn-no-sha1-3des"))
