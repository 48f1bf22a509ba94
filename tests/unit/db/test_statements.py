"""The statement cache (``vpnaas.db.statements``): built once per key, at
most its size kept, and what the repository reuses across transactions."""

from __future__ import annotations

from functools import partial

from tests.unit.db.objects import insert, res
from vpnaas.db.engine import Database
from vpnaas.db.repo import Repo
from vpnaas.db.statements import Statement, StatementCache
from vpnaas.db.tables import Schema
from vpnaas.spec import catalog


def test_a_statement_is_built_once_per_key() -> None:
    cache = StatementCache()
    built: list[str] = []

    def build(name: str) -> str:
        built.append(name)
        return f"stmt-{name}"

    assert cache.get(Statement.GET, "port", ("a",), lambda: build("a")) == "stmt-a"
    assert cache.get(Statement.GET, "port", ("a",), lambda: build("again")) == "stmt-a"
    assert cache.get(Statement.GET, "port", ("b",), lambda: build("b")) == "stmt-b"
    assert cache.get(Statement.DELETE, "port", ("a",), lambda: build("c")) == "stmt-c"
    assert built == ["a", "b", "c"]


def test_past_its_size_the_oldest_statement_goes() -> None:
    cache = StatementCache(size=3)
    for n in range(5):
        cache.get(Statement.VALUE, "port", (n,), partial(str, n))
    assert len(cache) == 3
    assert (Statement.VALUE, "port", (0,)) not in cache
    assert (Statement.VALUE, "port", (4,)) in cache
    assert cache.get(Statement.VALUE, "port", (4,), lambda: "rebuilt") == "4"
    assert cache.get(Statement.VALUE, "port", (0,), lambda: "rebuilt") == "rebuilt"


def test_the_repository_reuses_its_statements_across_transactions(database: Database) -> None:
    own = Schema(catalog())  # a fresh cache, the same tables
    ike = res("ikepolicy")
    sizes = []
    for _ in range(3):
        with database.write() as conn:
            repo = Repo(conn, own)
            obj = insert(repo, "ikepolicy", name="a")
            repo.get(ike, obj["id"])
            repo.update(ike, obj["id"], {"name": "b"})
            repo.delete(ike, obj["id"])
            repo.bump_revisions()
        sizes.append(len(own.statements))
    assert sizes[0] == sizes[1] == sizes[2]
    assert (Statement.GET, "ikepolicy", (tuple(f.name for f in ike.fields), False, False)) in (
        own.statements
    )
