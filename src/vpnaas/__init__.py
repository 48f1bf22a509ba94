"""vpnaas: a standalone server for the OpenStack Networking VPNaaS v2.0 API."""

__version__ = "0.1.0"
