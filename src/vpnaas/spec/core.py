"""The Neutron core subset: networks, subnets, routers and (read-only) ports.

Only what VPN services and the clients that build their topology need,
declared with the same vocabulary as the VPN resources. What is not plain
CRUD (the router interface actions' handlers, gateways, address allocation)
lives in :mod:`vpnaas.topology`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from vpnaas.spec.kinds import (
    Bool,
    Cidr,
    Column,
    Enum,
    Int,
    IntChoice,
    Invalid,
    IpAddress,
    Kind,
    Str,
    Unconvertible,
    Uuid,
    to_bool,
)
from vpnaas.spec.resource import COMPUTED, Action, Field, Policy, Resource, common_fields
from vpnaas.spec.structured import ListOf, Record, Sub

__all__ = [
    "ACTIVE",
    "DEVICE_OWNER_GATEWAY",
    "DEVICE_OWNER_INTERFACE",
    "IPV6_MODES",
    "MIN_MTU",
    "core_resources",
]

DEVICE_OWNER_INTERFACE = "network:router_interface"
DEVICE_OWNER_GATEWAY = "network:router_gateway"
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
#: the status of every network, router and port
ACTIVE = "ACTIVE"
#: the smallest MTU each IP version allows (``docs/api/networks.md`` §update)
MIN_MTU = {4: 68, 6: 1280}
ADMIN_ONLY = (("", "ADMIN"),)


@dataclass(frozen=True)
class SubnetCidr(Kind):
    """A subnet's ``cidr``: read by the parser first (a bare address becomes a
    host prefix), rewritten with a canonical address part, then checked."""

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str) or any(c.isspace() for c in value):
            raise Unconvertible(f"{value} is not in a CIDR format")
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError:
            raise Unconvertible(f"{value} is not in a CIDR format") from None
        return f"{iface.ip}/{iface.network.prefixlen}"

    def validate(self, value: Any) -> None:
        Cidr().validate(value)

    def columns(self) -> tuple[Column, ...]:
        return (Column("", "string", 64),)


_GATEWAY_KEYS = ("network_id", "enable_snat", "external_fixed_ips")
FIXED_IP = Record(
    keys=(Sub("subnet_id", Uuid(ref="subnet"), None), Sub("ip_address", IpAddress(), None)),
    required=False,
)


@dataclass(frozen=True)
class GatewayInfo(Kind):
    """A router's ``external_gateway_info``: null/``{}`` or an object with a
    required ``network_id``, optional ``enable_snat`` and
    ``external_fixed_ips``. Its output is computed from the gateway port."""

    filterable = False

    def convert(self, value: Any) -> Any:
        if isinstance(value, dict) and "enable_snat" in value:
            return {**value, "enable_snat": to_bool(value["enable_snat"])}
        return value

    def validate(self, value: Any) -> None:
        if value is None or value == {}:
            return
        if not isinstance(value, dict):
            raise Invalid(f"'{value}' is not a dictionary")
        unexpected = [k for k in value if k not in _GATEWAY_KEYS]
        if unexpected:
            raise Invalid("Unexpected keys supplied: " + ", ".join(map(str, unexpected)))
        if "network_id" not in value:
            raise Invalid(
                "Validation of dictionary's keys failed. Expected keys: {'network_id'} "
                f"Provided keys: {set(value)}"
            )
        Uuid().validate(value["network_id"])
        if "external_fixed_ips" in value:
            fixed = value["external_fixed_ips"]
            ListOf(FIXED_IP, convert_scalar=False).validate(fixed)

    def columns(self) -> tuple[Column, ...]:
        return ()


def _network_view(*names: str) -> tuple[Field, ...]:
    """Hidden attributes copied from an object's network for read policies."""
    return tuple(
        Field(
            name=f"network:{name}",
            kind=Str(255, nullable=True),
            default=None,
            create=False,
            update=False,
            visible=False,
            filter=False,
            stored=False,
        )
        for name in names
    )


def _network() -> Resource:
    return Resource(
        member="network",
        collection="networks",
        path="/networks",
        not_found="NetworkNotFound",
        extension="core",
        policy=Policy(
            get="ADMIN_OR_PROJECT_READER_OR_SHARED_OR_EXTERNAL",
            target_fields=("shared", "router:external"),
        ),
        fields=(
            *common_fields(),
            Field(name="admin_state_up", kind=Bool(), default=True, sort=True),
            Field(
                name="status",
                kind=Str(16),
                default=ACTIVE,
                create=False,
                update=False,
                sort=True,
            ),
            Field(
                name="subnets",
                kind=ListOf(Uuid()),
                default=[],
                create=False,
                update=False,
                stored=False,
                filter=False,
            ),
            Field(name="shared", kind=Bool(), default=False, enforce_policy=ADMIN_ONLY, index=True),
            Field(
                name="router:external",
                kind=Bool(),
                default=False,
                enforce_policy=ADMIN_ONLY,
                index=True,
            ),
            Field(name="mtu", kind=Int(), default=0, sort=True),
        ),
    )


def _subnet() -> Resource:
    return Resource(
        member="subnet",
        collection="subnets",
        path="/subnets",
        not_found="SubnetNotFound",
        extension="core",
        policy=Policy(
            get="ADMIN_OR_PROJECT_READER_OR_NETWORK_VISIBLE",
            target_fields=("network:project_id", "network:shared", "network:router:external"),
        ),
        extra_filters=(("shared", Bool()),),
        fields=(
            *common_fields(),
            Field(name="network_id", kind=Uuid(ref="network"), update=False, sort=True),
            Field(name="ip_version", kind=IntChoice((4, 6)), update=False, sort=True),
            Field(name="cidr", kind=SubnetCidr(), default=COMPUTED, update=False, sort=True),
            Field(name="gateway_ip", kind=IpAddress(nullable=True), default=COMPUTED, sort=True),
            Field(
                name="allocation_pools",
                kind=ListOf(
                    Record(keys=(Sub("start", IpAddress(), None), Sub("end", IpAddress(), None))),
                    convert_scalar=False,
                ),
                default=COMPUTED,
            ),
            Field(name="enable_dhcp", kind=Bool(), default=True, sort=True),
            Field(
                name="ipv6_ra_mode",
                kind=Enum(IPV6_MODES, nullable=True),
                default=None,
                update=False,
                sort=True,
            ),
            Field(
                name="ipv6_address_mode",
                kind=Enum(IPV6_MODES, nullable=True),
                default=None,
                update=False,
                sort=True,
            ),
            Field(name="dns_nameservers", kind=ListOf(IpAddress(), unique=True), default=[]),
            Field(
                name="host_routes",
                kind=ListOf(
                    Record(
                        keys=(Sub("destination", Cidr(), None), Sub("nexthop", IpAddress(), None))
                    ),
                    unique=True,
                ),
                default=[],
            ),
            Field(
                name="subnetpool_id",
                kind=Uuid(nullable=True),
                default=None,
                update=False,
                sort=True,
            ),
            *_network_view("project_id", "shared", "router:external"),
        ),
    )


def _interface_actions() -> tuple[Action, ...]:
    """``add_router_interface`` and ``remove_router_interface``: a bare body
    naming a subnet or a port, and the interface as the answer
    (``docs/api/routers.md`` §add-interface, §remove-interface)."""
    uuid = {"type": "string", "format": "uuid"}
    body = {
        "type": "object",
        "description": "subnet_id or port_id (add: not both); other keys are ignored",
        "properties": {"subnet_id": uuid, "port_id": uuid},
        "minProperties": 1,
    }
    answer = {
        "type": "object",
        "properties": {
            "id": uuid,
            "project_id": {"type": "string"},
            "port_id": uuid,
            "network_id": uuid,
            "subnet_id": {"type": ["string", "null"], "format": "uuid"},
            "subnet_ids": {"type": "array", "items": uuid},
        },
        "required": ["id", "project_id", "port_id", "network_id", "subnet_id", "subnet_ids"],
        "additionalProperties": False,
    }
    refs = (("subnet_id", "subnet"), ("port_id", "port"))
    return tuple(
        Action(name, body=body, answer=answer, refs=refs)
        for name in ("add_router_interface", "remove_router_interface")
    )


def _router() -> Resource:
    return Resource(
        member="router",
        collection="routers",
        path="/routers",
        not_found="RouterNotFound",
        extension="router",
        member_actions=_interface_actions(),
        policy=Policy(get="ADMIN_OR_PROJECT_READER"),
        fields=(
            *common_fields(),
            Field(name="admin_state_up", kind=Bool(), default=True, sort=True),
            Field(
                name="status",
                kind=Str(16),
                default=ACTIVE,
                create=False,
                update=False,
                filter=False,
                sort=True,
            ),
            Field(
                name="external_gateway_info",
                kind=GatewayInfo(),
                default=None,
                stored=False,
                enforce_policy=(
                    ("", "ADMIN_OR_PROJECT_MEMBER"),
                    ("network_id", "ADMIN_OR_PROJECT_MEMBER"),
                    ("enable_snat", "ADMIN"),
                    ("external_fixed_ips", "ADMIN"),
                ),
            ),
            Field(
                name="gw_network_id",
                kind=Uuid(nullable=True, ref="network"),
                default=None,
                create=False,
                update=False,
                visible=False,
                filter=False,
            ),
            Field(
                name="enable_snat",
                kind=Bool(),
                default=True,
                create=False,
                update=False,
                visible=False,
                filter=False,
            ),
        ),
    )


def _port() -> Resource:
    return Resource(
        member="port",
        collection="ports",
        path="/ports",
        not_found="PortNotFound",
        extension="core",
        writable=False,
        policy=Policy(
            get="ADMIN_OR_PROJECT_READER_OR_NETWORK_OWNER", target_fields=("network:project_id",)
        ),
        fields=(
            *common_fields(),
            Field(name="network_id", kind=Uuid(ref="network"), sort=True),
            Field(name="mac_address", kind=Str(17), sort=True, index=True),
            Field(name="admin_state_up", kind=Bool(), default=True, sort=True),
            Field(name="status", kind=Str(16), default=ACTIVE, sort=True),
            Field(name="device_id", kind=Str(255), default="", sort=True, index=True),
            Field(name="device_owner", kind=Str(255), default="", sort=True),
            Field(
                name="fixed_ips",
                kind=ListOf(FIXED_IP, unique_across=("subnet_id", "ip_address")),
                default=[],
                filter=True,
            ),
            *_network_view("project_id"),
        ),
    )


def core_resources() -> tuple[Resource, ...]:
    """The topology declarations, in dependency order."""
    return (_network(), _subnet(), _router(), _port())
