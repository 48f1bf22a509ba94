"""Networks: visibility, MTU, the external flag and what blocks a delete
(``docs/api/networks.md`` §create, §update, §delete)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vpnaas import errors
from vpnaas.context import RequestContext
from vpnaas.db.query import Clause
from vpnaas.db.repo import Repo
from vpnaas.db.tables import Schema
from vpnaas.hooks import ResourceRules, RuleEnv
from vpnaas.spec import Resource
from vpnaas.spec.core import DEVICE_OWNER_GATEWAY, MIN_MTU

__all__ = ["NetworkRules", "load_subnet_ids", "visible_networks"]


def visible_networks(ctx: RequestContext, schema: Schema) -> Clause:
    """Networks of the caller's project, shared ones and external ones."""
    networks = schema.table("network")
    return sa.or_(
        networks.c.project_id == ctx.project_id,
        networks.c.shared.is_(True),
        networks.c.router_external.is_(True),
    )


def load_subnet_ids(repo: Repo, objs: list[dict[str, Any]]) -> None:
    """Fill each network's ``subnets`` (ids, in id order)."""
    subnets = repo.schema.table("subnet")
    by_id = {obj["id"]: obj for obj in objs}
    for obj in objs:
        obj["subnets"] = []
    rows = repo.conn.execute(
        sa.select(subnets.c.network_id, subnets.c.id)
        .where(subnets.c.network_id.in_(list(by_id)))
        .order_by(subnets.c.network_id, subnets.c.id)
    )
    for network_id, subnet_id in rows:
        by_id[network_id]["subnets"].append(subnet_id)


class NetworkRules(ResourceRules):
    def visibility(self, ctx: RequestContext, schema: Schema, res: Resource) -> Clause | None:
        return visible_networks(ctx, schema)

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        obj["mtu"] = self._mtu(env, obj["mtu"])

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        if "mtu" in changes:
            changes["mtu"] = self._mtu(env, changes["mtu"])
            for subnet in self._subnets(env, current["id"]):
                if changes["mtu"] < MIN_MTU[subnet["ip_version"]]:
                    raise errors.NetworkMTUSubnetConflict(
                        net_id=current["id"], subnet_id=subnet["id"]
                    )
        if current["router:external"] and changes.get("router:external") is False:
            ports = env.schema.table("port")
            if env.repo.exists(
                env.res("port"),
                ports.c.network_id == current["id"],
                ports.c.device_owner == DEVICE_OWNER_GATEWAY,
            ):
                raise errors.ExternalNetworkInUse(net_id=current["id"])

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        ports = env.schema.table("port")
        port_ids = env.repo.ids(env.res("port"), ports.c.network_id == current["id"])
        if port_ids:
            raise errors.NetworkInUse(net_id=current["id"], ports=",".join(port_ids))
        subnet_res = env.res("subnet")
        for subnet in self._subnets(env, current["id"]):
            env.guards.removing_subnet(env, subnet["id"])
            env.repo.delete(subnet_res, subnet["id"])

    @staticmethod
    def _subnets(env: RuleEnv, network_id: str) -> list[dict[str, Any]]:
        subnets = env.schema.table("subnet")
        return env.repo.find(env.res("subnet"), subnets.c.network_id == network_id)

    @staticmethod
    def _mtu(env: RuleEnv, mtu: int) -> int:
        maximum = env.options.network_max_mtu
        if mtu > maximum:
            raise errors.InvalidInput(
                error_message=f"Requested MTU is too big, maximum is {maximum}"
            )
        return mtu or maximum
