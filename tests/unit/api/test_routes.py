"""Member action routes (``vpnaas.api.routes``): ``PUT <path>/{id}/<action>``
is built from each action the spec declares, and the controller refuses to
start with a declared action that has no handler."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from falcon import testing

from vpnaas.api.controller import Controller
from vpnaas.app import Application, create_app
from vpnaas.hooks import RuleOptions
from vpnaas.settings import Settings, TopologySeed
from vpnaas.spec import Catalog, catalog
from vpnaas.spec.resource import Action


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Application]:
    path = tmp_path_factory.mktemp("routes") / "x.sqlite"
    app = create_app(Settings(database_url=f"sqlite:///{path}", seed=TopologySeed(enabled=False)))
    app.controller.schema.metadata.create_all(app.db.engine)
    yield app
    app.db.dispose()


def test_every_declared_action_is_routed_to_its_handler(app: Application) -> None:
    """The router's two actions are PUT routes built from the spec."""
    client = testing.TestClient(app)
    for action in catalog()["router"].actions:
        assert ("router", action) in app.controller.actions
        url = f"/v2.0/routers/00000000-0000-0000-0000-000000000000/{action}"
        answer = client.simulate_put(url, json={}, headers={"X-Project-Id": "p"})
        assert answer.status_code == 404
        assert answer.json["NeutronError"]["type"] == "RouterNotFound"
        assert client.simulate_get(url, headers={"X-Project-Id": "p"}).status_code == 405


def _with_extra_action(base: Catalog) -> Catalog:
    router = base["router"]
    extra = Action("add_extraroutes", body={"type": "object"}, answer={"type": "object"})
    router = dataclasses.replace(router, member_actions=(*router.member_actions, extra))
    return Catalog(
        resources=tuple(router if r.member == "router" else r for r in base.resources),
        extensions=base.extensions,
    )


def test_an_action_the_spec_declares_needs_a_handler(app: Application) -> None:
    controller = app.controller
    with pytest.raises(ValueError, match="router add_extraroutes"):
        Controller(
            catalog=_with_extra_action(controller.catalog),
            db=controller.db,
            schema=controller.schema,
            authorizer=controller.authz,
            rules=controller.rules,
            hooks=controller.hooks,
            actions=controller.actions,
            driver=controller.driver,
            options=RuleOptions(),
        )
