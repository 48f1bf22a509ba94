"""The VPNaaS rules: checks a schema cannot express, per VPN resource, and the
guards that keep the core topology VPN objects are built on
(:mod:`vpnaas.rules.guards`). The hooks they implement are
:mod:`vpnaas.hooks`'s; :func:`vpnaas.rules.registry.vpn_contribution` is what
the application registers."""
