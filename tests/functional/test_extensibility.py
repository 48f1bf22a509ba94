"""Adding an attribute or an enumeration value is a change to the resource's
spec entry plus a migration, and nothing else.

The test declares a new IKE policy attribute (an integer, sortable and
filterable) and a new PFS group in a copy of the catalog, serves that catalog,
and checks the whole API follows: create with default and given value,
validation, filter, sort, ``fields=``, update and show. The schema difference
Alembic finds against this release's migrated database is exactly the new
column (and, since it is sortable, its index): the new enumeration value
needs no migration at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from falcon import testing

from vpnaas.app import create_app
from vpnaas.db import migrate
from vpnaas.db.engine import create_engine
from vpnaas.db.tables import Schema
from vpnaas.settings import PoolOptions, Settings, TopologySeed
from vpnaas.spec import Catalog, Field, catalog
from vpnaas.spec.kinds import Enum, Int
from vpnaas.spec.vpn import PFS_GROUPS

HEADERS = {"X-Project-Id": "p"}


def extended() -> Catalog:
    base = catalog()
    ike = base["ikepolicy"]
    fields = tuple(
        dataclasses.replace(f, kind=Enum((*PFS_GROUPS, "group32"))) if f.name == "pfs" else f
        for f in ike.fields
    )
    margin = Field(name="rekey_margin", kind=Int(minimum=1), default=540, sort=True)
    ike = dataclasses.replace(ike, fields=(*fields, margin))
    return Catalog(
        resources=tuple(ike if r.member == "ikepolicy" else r for r in base.resources),
        extensions=base.extensions,
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[testing.TestClient]:
    cat = extended()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/x.sqlite", seed=TopologySeed(enabled=False)
    )
    app = create_app(settings, cat)
    Schema(cat).metadata.create_all(app.db.engine)
    yield testing.TestClient(app)
    app.db.dispose()


def test_a_new_attribute_and_enum_value_work_across_the_api(client: testing.TestClient) -> None:
    path = "/v2.0/vpn/ikepolicies"
    made = client.simulate_post(path, json={"ikepolicy": {"name": "a"}}, headers=HEADERS)
    assert made.status_code == 201
    assert made.json["ikepolicy"]["rekey_margin"] == 540
    given = client.simulate_post(
        path,
        json={"ikepolicy": {"name": "b", "rekey_margin": "600", "pfs": "group32"}},
        headers=HEADERS,
    )
    assert given.status_code == 201, given.text
    assert given.json["ikepolicy"]["rekey_margin"] == 600
    assert given.json["ikepolicy"]["pfs"] == "group32"
    bad = client.simulate_post(path, json={"ikepolicy": {"rekey_margin": 0}}, headers=HEADERS)
    assert bad.status_code == 400
    assert "Invalid input for rekey_margin" in bad.json["NeutronError"]["message"]

    listed = client.simulate_get(path, query_string="rekey_margin=600&fields=name", headers=HEADERS)
    assert listed.json == {"ikepolicies": [{"name": "b"}]}
    ordered = client.simulate_get(
        path, query_string="sort_key=rekey_margin&sort_dir=desc", headers=HEADERS
    )
    assert [p["name"] for p in ordered.json["ikepolicies"]] == ["b", "a"]

    member = f"{path}/{made.json['ikepolicy']['id']}"
    updated = client.simulate_put(
        member, json={"ikepolicy": {"rekey_margin": 900}}, headers=HEADERS
    )
    assert updated.json["ikepolicy"]["rekey_margin"] == 900
    assert client.simulate_get(member, headers=HEADERS).json["ikepolicy"]["rekey_margin"] == 900


def test_the_migration_needed_is_exactly_the_new_column_and_its_index(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/m.sqlite", PoolOptions())
    try:
        migrate.upgrade(engine)
        diffs = migrate.differences(engine, Schema(extended()).metadata)
    finally:
        engine.dispose()
    found = [(d[0], d[2], d[3].name) if d[0] == "add_column" else (d[0], d[1].name) for d in diffs]
    assert found == [
        ("add_column", "ikepolicies", "rekey_margin"),
        ("add_index", "ix_ikepolicies_rekey_margin"),
    ]
