"""What each resource's answers are versioned by (``vpnaas.api.reads``):
every hook that reads another resource's rows is counted, and the sets are
closed under what they name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vpnaas.app import Application, create_app
from vpnaas.settings import Settings

#: a value per registered filter that makes its hook build its whole condition
FILTER_PROBES: dict[tuple[str, str], list[Any]] = {
    ("subnet", "shared"): [True],
    ("port", "fixed_ips"): ["subnet_id=x", "ip_address=10.0.0.1"],
}


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    app = create_app(Settings(database_url="sqlite://"))
    yield app
    app.db.dispose()


def test_read_sets_name_what_topology_answers_read(app: Application) -> None:
    """A network shows its subnets; subnets and ports are visible and carry
    attributes through their network; a router shows its gateway port's
    addresses (and, closed over, what those read)."""
    assert app.controller.read_sets == {
        "network": ("network", "subnet"),
        "subnet": ("network", "subnet"),
        "port": ("network", "port", "subnet"),
        "router": ("network", "port", "router", "subnet"),
        "ikepolicy": ("ikepolicy",),
        "ipsecpolicy": ("ipsecpolicy",),
        "vpnservice": ("vpnservice",),
        "endpoint_group": ("endpoint_group",),
        "ipsec_site_connection": ("ipsec_site_connection",),
        "agent": ("agent",),
    }


def test_every_loader_declares_reads_within_its_read_set(app: Application) -> None:
    controller = app.controller
    for (member, _), loader in controller.hooks.loaders.items():
        assert loader.reads
        assert set(loader.reads) <= set(controller.read_sets[member])


def test_every_computed_attribute_has_a_loader(app: Application) -> None:
    """What a read shows but no column holds comes from a loader, and so is
    counted in the read set."""
    loaders = app.controller.hooks.loaders
    for res in app.controller.catalog.resources:
        for fld in res.fields:
            if not fld.stored:
                assert (res.member, fld.name) in loaders, f"{res.member}.{fld.name}"


def test_every_filter_hook_declares_what_its_sql_reads(app: Application) -> None:
    controller = app.controller
    assert set(controller.hooks.filters) == set(FILTER_PROBES)
    for key, hook in controller.hooks.filters.items():
        clause = hook.clause(controller.schema, FILTER_PROBES[key])
        read = controller.schema.members_read_by(clause)
        assert read
        assert read <= set(hook.reads), key
        assert set(hook.reads) <= set(controller.read_sets[key[0]])


def test_read_sets_are_closed(app: Application) -> None:
    sets = app.controller.read_sets
    for member, reads in sets.items():
        assert member in reads
        for other in reads:
            assert set(sets[other]) <= set(reads), (member, other)
