"""Reaching tables: ``Schema.table`` and ``Schema.child``, by name, are the
only way, and the migrated database holds exactly what they describe."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.db.objects import res
from vpnaas.db import migrate
from vpnaas.db.engine import Database
from vpnaas.db.repo import Repo
from vpnaas.db.secrets import Sealer, generate_key
from vpnaas.db.tables import Schema, schema
from vpnaas.spec import Catalog, Field, catalog
from vpnaas.spec.kinds import Str

MEMBERS = [r.member for r in catalog().resources]
LISTS = [(r.member, f.name) for r in catalog().resources for f in r.child_tables]


@pytest.mark.parametrize("member", MEMBERS)
def test_a_resource_table_is_named_after_its_collection(member: str) -> None:
    table = schema().table(member)
    assert table.name == res(member).collection
    assert schema().metadata.tables[table.name] is table
    assert {c.name for c in table.primary_key} == {"id"}


@pytest.mark.parametrize(("member", "field"), LISTS)
def test_a_list_attribute_lives_in_a_child_table_of_its_parent(member: str, field: str) -> None:
    child = schema().child(member, field)
    parent = schema().table(member)
    assert child.table.name.startswith(f"{parent.name}_")
    assert [fk.column for fk in child.parent.foreign_keys] == [parent.c.id]
    assert {c.name for c in child.table.primary_key} == {child.parent.name, child.position.name}


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(KeyError):
        schema().table("no_such_resource")
    with pytest.raises(KeyError):
        schema().child("ikepolicy", "lifetime")  # a composite, not a list


def test_the_migrated_database_holds_every_table_the_schema_names(database: Database) -> None:
    found = set(sa.inspect(database.engine).get_table_names())
    assert {schema().table(m).name for m in MEMBERS} <= found
    assert {schema().child(m, f).table.name for m, f in LISTS} <= found
    assert migrate.differences(database.engine) == []


def test_members_read_by_names_the_owner_of_each_table_read() -> None:
    fixed = schema().child("port", "fixed_ips")
    networks = schema().table("network")
    clause = sa.and_(fixed.table.c.subnet_id == "x", networks.c.shared.is_(True))
    assert schema().members_read_by(clause) == {"port", "network"}


def _with_secret_token() -> Catalog:
    """The catalog with an extra secret attribute that is not the psk."""
    base = catalog()
    ike = base["ikepolicy"]
    token = Field(name="token", kind=Str(64), default="", secret=True)
    ike = dataclasses.replace(ike, fields=(*ike.fields, token))
    return Catalog(
        resources=tuple(ike if r.member == "ikepolicy" else r for r in base.resources),
        extensions=base.extensions,
    )


def test_any_field_marked_secret_is_sealed_at_rest(tmp_path: Path) -> None:
    """The spec's ``secret`` flag, not the attribute's name, decides sealing."""
    cat = _with_secret_token()
    extended = Schema(cat)
    ike = cat["ikepolicy"]
    assert {"token", "token_sealed", "token_digest"} <= set(extended.table("ikepolicy").c.keys())
    engine = sa.create_engine(f"sqlite:///{tmp_path}/extended.sqlite")
    try:
        extended.metadata.create_all(engine)
        sealer = Sealer([generate_key()])
        obj = {f.name: f.default for f in ike.stored} | {"id": "i1", "project_id": "p"}
        obj |= {"lifetime": {"units": "seconds", "value": 3600}, "token": "hush"}
        with engine.begin() as conn:
            Repo(conn, extended, sealer=sealer).insert(ike, obj)
            row = conn.execute(sa.select(extended.table("ikepolicy"))).one()._mapping
            assert row["token"] == ""
            assert row["token_sealed"] is not None
            assert "hush" not in str(dict(row))
            again = Repo(conn, extended, sealer=sealer).get(ike, "i1")
        assert again is not None
        assert again["token"] == "hush"
    finally:
        engine.dispose()
