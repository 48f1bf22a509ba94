"""The external network a fresh server starts with (``docs/api/networks.md``
§seed)."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any, Protocol

from vpnaas.context import ADMIN_ROLE, RequestContext
from vpnaas.hooks import RuleEnv
from vpnaas.settings import TopologySeed
from vpnaas.spec import Catalog, Resource

__all__ = ["Creator", "seed_external_network"]

LOG = logging.getLogger(__name__)


class Creator(Protocol):
    """What seeding needs of the application (its controller): the catalog, a
    read transaction, and a create run as the API runs it (body defaults,
    policy, rules), so seeded objects are what a client would have made."""

    catalog: Catalog

    def reading(self, ctx: RequestContext) -> AbstractContextManager[RuleEnv]: ...

    def create(
        self, ctx: RequestContext, res: Resource, doc: Any, obj_id: str | None = None
    ) -> dict[str, Any]: ...


def seed_external_network(controller: Creator, seed: TopologySeed) -> str | None:
    """Create the external network and its subnets unless it exists; its id."""
    if not seed.enabled:
        return None
    ctx = RequestContext(
        project_id=seed.project_id, roles=frozenset({ADMIN_ROLE, "member", "reader"}), is_admin=True
    )
    networks = controller.catalog["network"]
    with controller.reading(ctx) as env:
        table = env.schema.table("network")
        where = [table.c.router_external.is_(True), table.c.name == seed.name]
        if seed.network_id:
            where = [table.c.id == seed.network_id]
        existing = env.repo.ids(networks, *where)
    if existing:
        return existing[0]
    body = {"name": seed.name, "router:external": True, "project_id": seed.project_id}
    network = controller.create(ctx, networks, {"network": body}, obj_id=seed.network_id)["network"]
    subnets = controller.catalog["subnet"]
    for version, cidr in ((4, seed.cidr), (6, seed.ipv6_cidr)):
        if cidr:
            controller.create(
                ctx,
                subnets,
                {
                    "subnet": {
                        "name": f"{seed.name}-subnet{'' if version == 4 else '-v6'}",
                        "network_id": network["id"],
                        "ip_version": version,
                        "cidr": cidr,
                        "enable_dhcp": False,
                        "project_id": seed.project_id,
                    }
                },
            )
    LOG.info("created external network %s (%s)", seed.name, network["id"])
    return str(network["id"])
