"""Endpoint groups: endpoints present, unique and valid for the group's type.

``cidr`` endpoints must be CIDRs, ``subnet`` endpoints ids of subnets the
caller can see; ``network``, ``router`` and ``vlan`` endpoints are kept as
given (``docs/api/endpoint-groups.md`` §create). A group used by a connection
cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from vpnaas import errors
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.spec.kinds import canonical_uuid, cidr_reason
from vpnaas.spec.vpn import ENDPOINT_CIDR, ENDPOINT_SUBNET

__all__ = ["EndpointGroupRules"]


class EndpointGroupRules(ResourceRules):
    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        endpoints: list[Any] = obj["endpoints"]
        group_type = obj["type"]
        if not endpoints:
            raise errors.MissingEndpointForEndpointGroup(group=obj["name"])
        seen: set[Any] = set()
        for endpoint in endpoints:
            if endpoint in seen:
                raise errors.InvalidEndpointInEndpointGroup(
                    endpoint=endpoint, group_type=group_type, why="Endpoints have to be unique"
                )
            seen.add(endpoint)
        if group_type == ENDPOINT_CIDR:
            for endpoint in endpoints:
                if cidr_reason(endpoint):
                    raise errors.InvalidEndpointInEndpointGroup(
                        endpoint=endpoint, group_type=group_type, why="Invalid CIDR"
                    )
        elif group_type == ENDPOINT_SUBNET:
            obj["endpoints"] = [self._subnet(env, e, group_type) for e in endpoints]

    @staticmethod
    def _subnet(env: RuleEnv, endpoint: str, group_type: str) -> str:
        subnet_id = canonical_uuid(endpoint)
        if subnet_id is None:
            raise errors.InvalidEndpointInEndpointGroup(
                endpoint=endpoint, group_type=group_type, why="Invalid UUID"
            )
        res = env.res("subnet")
        if env.repo.get(res, subnet_id, env.scope_of(res)) is None:
            raise errors.NonExistingSubnetInEndpointGroup(subnet=endpoint)
        return subnet_id

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        if env.referrers("endpoint_group", current["id"]):
            raise errors.EndpointGroupInUse(id=current["id"])
