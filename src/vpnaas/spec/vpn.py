"""The five VPNaaS resources: IKE and IPsec policies, VPN services, endpoint
groups and IPsec site connections, with the constants they are built from.

``vpn_resources(legacy_crypto)`` returns the declarations. By default the
``vpn-no-sha1-3des`` semantics hold (``sha256`` default, ``sha1``/``3des``
refused); ``legacy_crypto=True`` restores the base definition's lists and
its ``sha1`` default. The stored shape is the same either way.
"""

from __future__ import annotations

from vpnaas.spec.core import ACTIVE
from vpnaas.spec.kinds import Bool, Enum, Int, Str, Uuid
from vpnaas.spec.kinds import Cidr as CidrKind
from vpnaas.spec.resource import Field, Resource, common_fields
from vpnaas.spec.structured import Composite, ListOf, Sub

__all__ = [
    "ACTIVE",
    "AGGRESSIVE_MODE",
    "AH_ESP",
    "DOWN",
    "ENDPOINT_CIDR",
    "ENDPOINT_SUBNET",
    "ESP",
    "IKE_V1",
    "MAIN_MODE",
    "PEER_CONFIG_FORMATS",
    "PEER_CONFIG_VIEW",
    "PENDING_CREATE",
    "PENDING_STATUSES",
    "PSK_EXPORT_RULE",
    "STATUSES",
    "TUNNEL_MODE",
    "TUNNEL_VIEW",
    "vpn_resources",
]

# --- statuses -----------------------------------------------------------------

# ACTIVE is the core resources' status too (vpnaas.spec.core)
DOWN = "DOWN"
BUILD = "BUILD"
ERROR = "ERROR"
PENDING_CREATE = "PENDING_CREATE"
PENDING_UPDATE = "PENDING_UPDATE"
PENDING_DELETE = "PENDING_DELETE"
STATUSES = (ACTIVE, DOWN, BUILD, ERROR, PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE)
PENDING_STATUSES = frozenset({PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE})

# --- views of a connection -----------------------------------------------------

#: what the data plane says of a connection's tunnel (docs/api/tunnel.md)
TUNNEL_VIEW = "tunnel"
#: a configuration for the remote gateway (docs/api/peer-config.md)
PEER_CONFIG_VIEW = "peer-config"
#: who may ask the peer configuration to carry the psk
PSK_EXPORT_RULE = "get_ipsec_site_connection:psk"
#: the formats of the peer configuration, and the media type of each
PEER_CONFIG_FORMATS = ("swanctl", "libreswan", "text")

# --- enumerations -------------------------------------------------------------

WEAK_AUTH_ALGORITHMS = ("sha1",)
AUTH_ALGORITHMS = ("sha256", "sha384", "sha512", "aes-xcbc", "aes-cmac")
WEAK_ENCRYPTION_ALGORITHMS = ("3des",)
ENCRYPTION_ALGORITHMS = (
    "aes-128",
    "aes-192",
    "aes-256",
    *(
        f"aes-{bits}-{mode}-{icv}"
        for mode in ("ccm", "gcm")
        for icv in (8, 12, 16)
        for bits in (128, 192, 256)
    ),
    "aes-128-ctr",
    "aes-192-ctr",
    "aes-256-ctr",
)
PFS_GROUPS = ("group2", "group5", *(f"group{n}" for n in range(14, 32)))
LIFETIME_UNITS = ("seconds",)
IKE_V1 = "v1"
IKE_VERSIONS = (IKE_V1, "v2")
MAIN_MODE = "main"
AGGRESSIVE_MODE = "aggressive"
PHASE1_MODES = (MAIN_MODE, AGGRESSIVE_MODE)
ESP = "esp"
#: a transform protocol the reference accepts on policies but refuses on connections
AH_ESP = "ah-esp"
TRANSFORM_PROTOCOLS = (ESP, "ah", AH_ESP)
TUNNEL_MODE = "tunnel"
ENCAPSULATION_MODES = (TUNNEL_MODE, "transport")
DPD_ACTIONS = ("clear", "disabled", "hold", "restart", "restart-by-peer")
INITIATORS = ("bi-directional", "response-only")
AUTH_MODES = ("psk",)
ROUTE_MODES = ("static",)
#: the endpoint group types connections use: peer CIDRs, local subnets
ENDPOINT_CIDR = "cidr"
ENDPOINT_SUBNET = "subnet"
ENDPOINT_TYPES = (ENDPOINT_CIDR, "network", "router", ENDPOINT_SUBNET, "vlan")

LIFETIME = Composite(
    keys=(
        Sub("units", Enum(LIFETIME_UNITS), "seconds"),
        Sub("value", Int(minimum=60), 3600),
    )
)
DPD = Composite(
    keys=(
        Sub("action", Enum(DPD_ACTIONS), "hold"),
        Sub("interval", Int(), 30),
        Sub("timeout", Int(), 120),
    )
)


def _status() -> Field:
    return Field(name="status", kind=Str(16), default=PENDING_CREATE, create=False, update=False)


def _crypto(legacy: bool) -> tuple[Field, Field]:
    auth = (*WEAK_AUTH_ALGORITHMS, *AUTH_ALGORITHMS) if legacy else AUTH_ALGORITHMS
    enc = (*WEAK_ENCRYPTION_ALGORITHMS, *ENCRYPTION_ALGORITHMS) if legacy else ENCRYPTION_ALGORITHMS
    return (
        Field(name="auth_algorithm", kind=Enum(auth), default="sha1" if legacy else "sha256"),
        Field(name="encryption_algorithm", kind=Enum(enc), default="aes-128"),
    )


def vpn_resources(*, legacy_crypto: bool = False) -> tuple[Resource, ...]:
    """The VPNaaS declarations, in dependency order."""
    auth, encryption = _crypto(legacy_crypto)
    ikepolicy = Resource(
        member="ikepolicy",
        collection="ikepolicies",
        path="/vpn/ikepolicies",
        not_found="IKEPolicyNotFound",
        extension="vpnaas",
        fields=(
            *common_fields(),
            auth,
            encryption,
            Field(name="phase1_negotiation_mode", kind=Enum(PHASE1_MODES), default=MAIN_MODE),
            Field(name="lifetime", kind=LIFETIME, default={}),
            Field(name="ike_version", kind=Enum(IKE_VERSIONS), default="v1"),
            Field(name="pfs", kind=Enum(PFS_GROUPS), default="group5"),
        ),
    )
    ipsecpolicy = Resource(
        member="ipsecpolicy",
        collection="ipsecpolicies",
        path="/vpn/ipsecpolicies",
        not_found="IPsecPolicyNotFound",
        extension="vpnaas",
        fields=(
            *common_fields(),
            Field(name="transform_protocol", kind=Enum(TRANSFORM_PROTOCOLS), default="esp"),
            auth,
            encryption,
            Field(name="encapsulation_mode", kind=Enum(ENCAPSULATION_MODES), default="tunnel"),
            Field(name="lifetime", kind=LIFETIME, default={}),
            Field(name="pfs", kind=Enum(PFS_GROUPS), default="group5"),
        ),
    )
    vpnservice = Resource(
        member="vpnservice",
        collection="vpnservices",
        path="/vpn/vpnservices",
        not_found="VPNServiceNotFound",
        extension="vpnaas",
        fields=(
            *common_fields(),
            Field(
                name="subnet_id", kind=Uuid(nullable=True, ref="subnet"), default=None, update=False
            ),
            Field(name="router_id", kind=Uuid(ref="router"), update=False, sort=True),
            Field(name="admin_state_up", kind=Bool(), default=True),
            Field(
                name="external_v4_ip",
                kind=Str(64, nullable=True),
                default=None,
                create=False,
                update=False,
            ),
            Field(
                name="external_v6_ip",
                kind=Str(64, nullable=True),
                default=None,
                create=False,
                update=False,
            ),
            _status(),
            Field(name="flavor_id", kind=Uuid(nullable=True), default=None, update=False),
        ),
    )
    endpoint_group = Resource(
        member="endpoint_group",
        collection="endpoint_groups",
        path="/vpn/endpoint-groups",
        not_found="VPNEndpointGroupNotFound",
        extension="vpn-endpoint-groups",
        filter_aliases=(("endpoint_type", "type"),),
        fields=(
            *common_fields(sort=False),
            Field(name="type", kind=Enum(ENDPOINT_TYPES), update=False, index=True),
            Field(name="endpoints", kind=ListOf(Str(255)), default=[], update=False),
        ),
    )
    connection = Resource(
        member="ipsec_site_connection",
        collection="ipsec_site_connections",
        path="/vpn/ipsec-site-connections",
        not_found="IPsecSiteConnectionNotFound",
        extension="vpnaas",
        views=(TUNNEL_VIEW, PEER_CONFIG_VIEW),
        extra_rules=(
            (
                PSK_EXPORT_RULE,
                PEER_CONFIG_VIEW,
                "ADMIN_OR_PROJECT_MEMBER",
                "Include the psk in the peer configuration of an IPsec site connection",
            ),
        ),
        fields=(
            *common_fields(),
            Field(name="local_id", kind=Str(255), default=""),
            Field(name="peer_address", kind=Str(255)),
            Field(name="peer_id", kind=Str(255)),
            Field(name="peer_cidrs", kind=ListOf(CidrKind(), unique=True), default=[]),
            Field(
                name="local_ep_group_id",
                kind=Uuid(nullable=True, ref="endpoint_group"),
                default=None,
            ),
            Field(
                name="peer_ep_group_id",
                kind=Uuid(nullable=True, ref="endpoint_group"),
                default=None,
            ),
            Field(
                name="route_mode",
                kind=Enum(ROUTE_MODES),
                default="static",
                create=False,
                update=False,
            ),
            Field(name="mtu", kind=Int(), default=1500),
            Field(name="initiator", kind=Enum(INITIATORS), default="bi-directional"),
            Field(
                name="auth_mode", kind=Enum(AUTH_MODES), default="psk", create=False, update=False
            ),
            Field(name="psk", kind=Str(255), secret=True),
            Field(name="dpd", kind=DPD, default={}),
            Field(name="admin_state_up", kind=Bool(), default=True),
            _status(),
            Field(name="vpnservice_id", kind=Uuid(ref="vpnservice"), update=False),
            Field(name="ikepolicy_id", kind=Uuid(ref="ikepolicy"), update=False),
            Field(name="ipsecpolicy_id", kind=Uuid(ref="ipsecpolicy"), update=False),
            Field(name="split_selector", kind=Bool(), default=False),
            Field(
                name="status_reason",
                kind=Str(255, nullable=True),
                default=None,
                create=False,
                update=False,
                visible=False,
                filter=False,
            ),
        ),
    )
    return (ikepolicy, ipsecpolicy, vpnservice, endpoint_group, connection)
