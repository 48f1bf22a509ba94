"""The one exception hierarchy of vpnaas, and the only place HTTP statuses live.

Every error a client can see is a subclass of :class:`ApiError`. The class
name is the public ``NeutronError.type`` (so a shipped name never changes),
``status`` is the HTTP status and ``template`` the message, filled from the
keyword arguments given when the error is raised. A subclass inherits its
status from its parent, as neutron-lib's fault map does by base class.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["ApiError", "by_name", "public_errors"]


class ApiError(Exception):
    """Base of every error rendered as ``{"NeutronError": {...}}``."""

    status: ClassVar[int] = 500
    #: a base class only: never raised, so never seen by a client
    abstract: ClassVar[bool] = True
    template: ClassVar[str] = "Request Failed: internal server error while processing your request."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "abstract" not in cls.__dict__:
            cls.abstract = False

    #: values for the template's placeholders the raiser may leave out
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = {**self.defaults, **kwargs}
        self.message = self.template % self.kwargs if self.kwargs else self.template
        super().__init__(self.message)

    @property
    def type(self) -> str:
        """The public error type: the class name."""
        return type(self).__name__

    def body(self) -> dict[str, dict[str, str]]:
        """The Neutron error document for this error."""
        return {"NeutronError": {"type": self.type, "message": self.message, "detail": ""}}


class HTTPInternalServerError(ApiError):
    """An unexpected failure: always a bug (or an unreachable backend)."""

    abstract = False


# --- 400 ---------------------------------------------------------------------


class HTTPBadRequest(ApiError):
    """A malformed request as the API layer words it; ``msg`` is the whole text."""

    status = 400
    template = "%(msg)s"


class BadRequest(ApiError):
    """neutron-lib's generic bad request."""

    status = 400
    template = "Bad %(resource)s request: %(msg)s."


class InvalidInput(BadRequest):
    template = "Invalid input for operation: %(error_message)s."


class MalformedRequestBody(BadRequest):
    template = "Malformed request body: %(reason)s."


# --- 401/403/404/405 ---------------------------------------------------------


class NotAuthorized(ApiError):
    status = 403
    abstract = True
    template = "Not authorized."


class PolicyNotAuthorized(NotAuthorized):
    template = "%(action)s is disallowed by policy"


class InvalidScope(NotAuthorized):
    template = (
        "%(rule)s requires a scope of %(scope_types)s, request was made with %(token_scope)s scope."
    )


class HTTPNotFound(ApiError):
    status = 404
    template = "%(msg)s"
    defaults = {"msg": "The resource could not be found."}


class NotFound(ApiError):
    """Base of the per-resource not-found errors; ``id`` names the object."""

    status = 404
    abstract = True
    template = "%(id)s could not be found"


class HTTPMethodNotAllowed(ApiError):
    status = 405
    template = "The method is not allowed for this resource."


class HTTPRequestTimeout(ApiError):
    """The request body did not arrive within ``client_body_timeout``."""

    status = 408
    template = "The request body did not arrive within %(seconds)s seconds."


class HTTPRequestEntityTooLarge(ApiError):
    status = 413
    template = "Request is too large."


class HTTPRequestURITooLong(ApiError):
    status = 414
    template = "The request URL is longer than %(limit)s characters."


class HTTPRequestHeaderFieldsTooLarge(ApiError):
    status = 431
    template = "The request header %(name)s is longer than %(limit)s characters."


# --- 409 ---------------------------------------------------------------------


class Conflict(ApiError):
    status = 409
    template = "A conflict occurred: %(msg)s"


class InUse(ApiError):
    status = 409
    abstract = True
    template = "The resource is in use."


# --- 503 ---------------------------------------------------------------------


class ServiceUnavailable(ApiError):
    status = 503
    template = "The service is unavailable: %(reason)s"


# --- VPNaaS: not found -------------------------------------------------------


class IKEPolicyNotFound(NotFound):
    template = "IKEPolicy %(id)s could not be found"


class IPsecPolicyNotFound(NotFound):
    template = "IPsecPolicy %(id)s could not be found"


class VPNServiceNotFound(NotFound):
    template = "VPNService %(id)s could not be found"


class VPNEndpointGroupNotFound(NotFound):
    template = "Endpoint group %(id)s could not be found"


class IPsecSiteConnectionNotFound(NotFound):
    template = "ipsec_site_connection %(id)s not found"


class FlavorsPluginNotLoaded(NotFound):
    template = "Flavors plugin not found"


# --- VPNaaS: in use ----------------------------------------------------------


class IKEPolicyInUse(InUse):
    template = (
        "IKEPolicy %(id)s is in use by existing IPsecSiteConnection and can't be updated or deleted"
    )


class IPsecPolicyInUse(InUse):
    template = (
        "IPsecPolicy %(id)s is in use by existing IPsecSiteConnection "
        "and can't be updated or deleted"
    )


class VPNServiceInUse(InUse):
    template = "VPNService %(id)s is still in use"


class SubnetInUseByVPNService(InUse):
    template = "Subnet %(subnet_id)s is used by VPNService %(vpnservice_id)s"


class SubnetInUseByIPsecSiteConnection(InUse):
    template = "Subnet %(subnet_id)s is used by ipsec site connection %(id)s"


class EndpointGroupInUse(BadRequest):
    template = "Endpoint group %(id)s is in use and cannot be deleted"


# --- VPNaaS: semantic checks (400) -------------------------------------------


class VPNStateInvalidToUpdate(BadRequest):
    template = "Invalid state %(state)s of vpnaas resource %(id)s for updating"


class IPsecSiteConnectionDpdIntervalValueError(BadRequest):
    template = "ipsec_site_connection dpd_timeout is equal to or less than dpd_interval"


class IPsecSiteConnectionMtuError(BadRequest):
    template = "ipsec_site_connection MTU %(mtu)s is too small for ipv%(version)s"


class SubnetIsNotConnectedToRouter(BadRequest):
    template = "Subnet %(subnet_id)s is not connected to Router %(router_id)s"


class RouterIsNotExternal(BadRequest):
    template = "Router %(router_id)s has no external network gateway set"


class VPNPeerAddressNotResolved(BadRequest):
    template = "Peer address %(peer_address)s cannot be resolved"


class ExternalNetworkHasNoSubnet(BadRequest):
    template = "Router's %(router_id)s external network has no %(ip_version)s subnet"


class InvalidEndpointInEndpointGroup(BadRequest):
    template = "Endpoint '%(endpoint)s' is invalid for group type '%(group_type)s': %(why)s"


class MissingEndpointForEndpointGroup(BadRequest):
    template = "No endpoints specified for endpoint group '%(group)s'"


class NonExistingSubnetInEndpointGroup(BadRequest):
    template = "Subnet %(subnet)s in endpoint group does not exist"


class MixedIPVersionsForIPSecEndpoints(BadRequest):
    template = (
        "Endpoints in group %(group)s do not have the same IP version, "
        "as required for IPSec site-to-site connection"
    )


class MixedIPVersionsForPeerCidrs(BadRequest):
    template = (
        "Peer CIDRs do not have the same IP version, as required for IPSec site-to-site connection"
    )


class MixedIPVersionsForIPSecConnection(BadRequest):
    template = "IP versions are not compatible between peer and local endpoints"


class InvalidEndpointGroup(BadRequest):
    template = (
        "Endpoint group%(suffix)s %(which)s cannot be specified, "
        "when VPN Service has subnet specified"
    )


class WrongEndpointGroupType(BadRequest):
    template = "Endpoint group %(group)s type is '%(group_type)s' and should be '%(expected)s'"


class PeerCidrsInvalid(BadRequest):
    template = "Peer CIDRs cannot be specified, when using endpoint groups"


class MissingPeerCidrs(BadRequest):
    template = "Missing peer CIDRs for IPsec site-to-site connection"


class MissingRequiredEndpointGroup(BadRequest):
    template = "Missing endpoint group%(suffix)s %(which)s for IPSec site-to-site connection"


class IpsecValidationFailure(BadRequest):
    template = "IPSec does not support %(resource)s attribute %(key)s with value '%(value)s'"


# --- the strongswan driver and its agents ---------------------------------------


class UnsupportedByDriver(BadRequest):
    """A value the active data plane cannot build (the strongswan driver)."""

    template = (
        "Invalid input for %(attribute)s: %(value)s is not supported by the "
        "strongswan driver (%(why)s)"
    )


class OverlappingPeerCidrs(BadRequest):
    template = (
        "Peer CIDR %(cidr)s overlaps peer CIDR %(other)s of IPsec site connection "
        "%(connection)s on router %(router_id)s: traffic for it could not be routed"
    )


class IKEGroupConflict(Conflict):
    template = (
        "IPsec site connection %(connection)s on router %(router_id)s has the same local "
        "address, peer address and identities, so both share one IKE SA: their "
        "%(attribute)s must be the same"
    )


class AgentAPIForbidden(NotAuthorized):
    template = "The agent API is for agents: the admin or service role is required."


class InvalidAgentRequest(BadRequest):
    template = "Invalid agent request: %(reason)s."


# --- Neutron core subset -------------------------------------------------------


class AgentNotFound(NotFound):
    template = "Agent %(id)s could not be found."


class NetworkNotFound(NotFound):
    template = "Network %(id)s could not be found."


class SubnetNotFound(NotFound):
    template = "Subnet %(id)s could not be found."


class PortNotFound(NotFound):
    template = "Port %(id)s could not be found."


class RouterNotFound(NotFound):
    template = "Router %(id)s could not be found"


class SubnetPoolNotFound(NotFound):
    template = "Subnet pool %(id)s could not be found."


class RouterInterfaceNotFound(NotFound):
    template = "Router %(router_id)s does not have an interface with id %(port_id)s"


class RouterInterfaceNotFoundForSubnet(NotFound):
    template = "Router %(router_id)s has no interface on subnet %(subnet_id)s"


class NetworkInUse(InUse):
    template = (
        "Unable to complete operation on network %(net_id)s. There are one or more ports "
        "still in use on the network, id for these ports is: %(ports)s."
    )


class SubnetInUse(InUse):
    template = "Unable to complete operation on subnet %(subnet_id)s: %(reason)s."


class RouterInUse(InUse):
    template = "Router %(router_id)s %(reason)s"


class PortInUse(InUse):
    template = (
        "Unable to complete operation on port %(port_id)s for network %(net_id)s. "
        "Port already has an attached device %(device_id)s."
    )


class ExternalNetworkInUse(InUse):
    template = (
        "External network %(net_id)s cannot be updated to be made non-external, "
        "since it has existing gateway ports."
    )


class NetworkMTUSubnetConflict(Conflict):
    template = "MTU of %(net_id)s is not compatible with subnet %(subnet_id)s."


class IpAddressInUse(InUse):
    template = (
        "Unable to complete operation for network %(net_id)s. "
        "The IP address %(ip_address)s is in use."
    )


class IpAddressGenerationFailure(Conflict):
    template = "No more IP addresses available on network %(net_id)s."


class GatewayIpInUse(InUse):
    template = (
        "Current gateway ip %(ip_address)s already in use by port %(port_id)s. Unable to update."
    )


class OverlappingAllocationPools(Conflict):
    template = "Found overlapping allocation pools: %(pool_1)s %(pool_2)s for subnet %(cidr)s."


class GatewayConflictWithAllocationPools(InUse):
    template = "Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s."


class InvalidAllocationPool(BadRequest):
    template = "The allocation pool %(pool)s is not valid."


class OutOfBoundsAllocationPool(BadRequest):
    template = "The allocation pool %(pool)s spans beyond the subnet cidr %(cidr)s."


class DNSNameServersExhausted(BadRequest):
    template = (
        "Unable to complete operation for %(subnet_id)s. "
        "The number of DNS nameservers exceeds the limit %(quota)s."
    )


class HostRoutesExhausted(BadRequest):
    template = (
        "Unable to complete operation for %(subnet_id)s. "
        "The number of host routes exceeds the limit %(quota)s."
    )


class SubnetMismatchForPort(BadRequest):
    template = "Subnet on port %(port_id)s does not match the requested subnet %(subnet_id)s."


_REGISTRY: dict[str, type[ApiError]] = {}


def _collect(cls: type[ApiError]) -> None:
    for sub in cls.__subclasses__():
        _REGISTRY[sub.__name__] = sub
        _collect(sub)


def by_name(name: str) -> type[ApiError]:
    """Return the error class whose public type is ``name``."""
    if not _REGISTRY:
        _REGISTRY[ApiError.__name__] = ApiError
        _collect(ApiError)
    return _REGISTRY[name]


def public_errors() -> list[type[ApiError]]:
    """Every concrete error class a client may receive (for coverage checks)."""
    by_name(ApiError.__name__)
    return [cls for _name, cls in sorted(_REGISTRY.items()) if not cls.abstract]


# --- views of a connection ----------------------------------------------------


class PeerConfigFormatInvalid(BadRequest):
    template = "Invalid peer configuration format '%(format)s': use one of %(formats)s."


class PeerConfigParameterInvalid(BadRequest):
    template = "Invalid peer configuration parameter %(name)s: %(why)s."
