"""The hook framework (``vpnaas.hooks``): what several packages contribute is
put together without losing anything, and the application registers the VPN
guards with the core topology. The routes of the member actions whose
handlers are contributed here are tested with the routes
(``tests/unit/api/test_routes.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa

from vpnaas.app import create_app
from vpnaas.context import RequestContext
from vpnaas.db.query import Clause, FilterHook, Hooks
from vpnaas.db.tables import Schema
from vpnaas.hooks import Guards, ResourceRules, RuleEnv
from vpnaas.hooks.compose import ComposedRules, Contribution, compose
from vpnaas.rules.guards import refuse_if_in_endpoint_group, refuse_if_vpn_uses
from vpnaas.settings import Settings, TopologySeed
from vpnaas.spec import Resource, catalog

#: the rules below never look at their environment
NO_ENV = cast(RuleEnv, None)


class Recorder(ResourceRules):
    """Rules that note each call, and narrow visibility to one column value."""

    def __init__(self, name: str, calls: list[str], column: str | None = None) -> None:
        self.name = name
        self.calls = calls
        self.column = column

    def on_create(self, env: RuleEnv, obj: dict[str, Any]) -> None:
        self.calls.append(f"{self.name} create")
        obj.setdefault("filled_by", self.name)

    def on_update(self, env: RuleEnv, current: dict[str, Any], changes: dict[str, Any]) -> None:
        self.calls.append(f"{self.name} update")

    def on_delete(self, env: RuleEnv, current: dict[str, Any]) -> None:
        self.calls.append(f"{self.name} delete")

    def visibility(self, ctx: RequestContext, schema: Schema, res: Resource) -> Clause | None:
        return None if self.column is None else sa.column(self.column) == ctx.project_id


def test_rules_of_two_packages_for_one_resource_run_in_the_given_order() -> None:
    calls: list[str] = []
    first, second, alone = Recorder("core", calls), Recorder("vpn", calls), Recorder("x", calls)
    composed = compose(
        Contribution(rules={"subnet": first}),
        Contribution(rules={"subnet": second, "router": alone}),
    )
    assert composed.rules["router"] is alone
    subnet = composed.rules["subnet"]
    assert isinstance(subnet, ComposedRules)
    obj: dict[str, Any] = {}
    subnet.on_create(NO_ENV, obj)
    subnet.on_update(NO_ENV, {}, {})
    subnet.on_delete(NO_ENV, {})
    assert calls == [
        "core create",
        "vpn create",
        "core update",
        "vpn update",
        "core delete",
        "vpn delete",
    ]
    assert obj == {"filled_by": "core"}


def test_composed_visibility_lets_through_what_every_narrowing_rule_does() -> None:
    ctx = RequestContext(project_id="p")
    schema = Schema(catalog())
    res = catalog()["subnet"]
    both = ComposedRules([Recorder("a", [], "x"), Recorder("b", [], None), Recorder("c", [], "y")])
    clause = both.visibility(ctx, schema, res)
    assert clause is not None
    assert str(clause.compile(compile_kwargs={"literal_binds": True})) == "x = 'p' AND y = 'p'"
    one = ComposedRules([Recorder("a", [], None), Recorder("b", [], "x")])
    assert str(one.visibility(ctx, schema, res)) == "x = :x_1"
    assert ComposedRules([Recorder("a", [], None)]).visibility(ctx, schema, res) is None


def test_a_filter_or_an_action_belongs_to_one_package() -> None:
    hook = FilterHook(lambda schema, values: sa.true(), reads=("subnet",))
    twice = Hooks(filters={("subnet", "shared"): hook})
    with pytest.raises(ValueError, match="filter"):
        compose(Contribution(hooks=twice), Contribution(hooks=twice))

    def handler(env: RuleEnv, current: dict[str, Any], body: Any) -> dict[str, Any]:
        return {}

    actions = {("router", "add_router_interface"): handler}
    with pytest.raises(ValueError, match="add_router_interface"):
        compose(Contribution(actions=actions), Contribution(actions=actions))


def test_guards_of_every_package_run_in_the_given_order() -> None:
    calls: list[str] = []

    def guard(name: str) -> Any:
        return lambda env, *ids: calls.append(f"{name} {' '.join(ids)}")

    composed = compose(
        Contribution(guards=Guards(subnet_removal=(guard("a"),))),
        Contribution(guards=Guards(subnet_removal=(guard("b"),), gateway_removal=(guard("c"),))),
        Contribution(guards=Guards(interface_removal=(guard("d"),))),
    )
    composed.guards.removing_subnet(NO_ENV, "s")
    composed.guards.removing_gateway(NO_ENV, "r")
    composed.guards.removing_interface(NO_ENV, "r", "s")
    assert calls == ["a s", "b s", "c r", "d r s"]


def test_the_application_registers_the_vpn_guards_with_the_topology(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.sqlite"
    app = create_app(Settings(database_url=url, seed=TopologySeed(enabled=False)))
    try:
        guards = app.controller.guards
        assert refuse_if_in_endpoint_group in guards.subnet_removal
        assert refuse_if_vpn_uses in guards.interface_removal
        assert len(guards.gateway_removal) == 1
    finally:
        app.db.dispose()
