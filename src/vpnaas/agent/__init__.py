"""``vpnaas agent``: one per gateway. It pulls the desired state of its
routers from a ``vpnaas serve`` (docs/agent-protocol.md), turns it into
strongSwan configuration over VICI, keeps traffic fail-closed, and reports
what charon really has.

Modules, in the order the data flows: :mod:`~vpnaas.ipsec.desired` (the
desired-state document, grouped into IKE connections),
:mod:`~vpnaas.ipsec.translate` (API values → VICI dictionaries, pure),
:mod:`~vpnaas.agent.charon` (one VICI session), :mod:`~vpnaas.agent.routes`
(fail-closed and MTU routes in the gateway's namespace),
:mod:`~vpnaas.agent.reconcile` (apply what changed),
:mod:`~vpnaas.agent.status` (list-sas → status, pure),
:mod:`~vpnaas.agent.events` (the event session), :mod:`~vpnaas.agent.client`
(the server channel) and :mod:`~vpnaas.agent.service` (the loop).
"""
