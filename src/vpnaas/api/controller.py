"""The one generic controller: list, show, create, update and delete any resource.

Each operation reads top to bottom in Neutron's order: parse the request,
authorize, open one transaction, run the resource's rules, store, commit,
tell the driver, render. Nothing here names a resource.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
import sqlalchemy as sa

from vpnaas import errors
from vpnaas.api import body, query, reads, render
from vpnaas.api.cache import ResponseCache
from vpnaas.api.lists import Lists
from vpnaas.context import RequestContext
from vpnaas.db.counters import Counters
from vpnaas.db.engine import Database
from vpnaas.db.plans import picker
from vpnaas.db.query import Hooks, ListQuery, Scope
from vpnaas.db.repo import Repo
from vpnaas.db.secrets import Sealer
from vpnaas.db.tables import Schema
from vpnaas.drivers import Driver
from vpnaas.hooks import ActionHandler, Guards, ResourceRules, RuleEnv, RuleOptions
from vpnaas.policy import Authorizer
from vpnaas.spec import Catalog, Resource
from vpnaas.spec.resource import OWNER, OWNER_ALIAS

__all__ = ["Controller"]


_NO_RULES = ResourceRules()


class Controller:
    """CRUD for every resource of a catalog."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        db: Database,
        schema: Schema,
        authorizer: Authorizer,
        rules: Mapping[str, ResourceRules],
        hooks: Hooks,
        guards: Guards | None = None,
        actions: Mapping[tuple[str, str], ActionHandler] | None = None,
        sealer: Sealer | None = None,
        driver: Driver,
        options: RuleOptions,
        filter_validation: bool = True,
        max_limit: int = -1,
        response_cache: bool = True,
    ) -> None:
        self.catalog = catalog
        self.db = db
        self.schema = schema
        self.authz = authorizer
        self.rules = rules
        self.hooks = hooks
        self.guards = guards or Guards()
        self.actions = dict(actions or {})
        unhandled = [
            f"{res.member} {name}"
            for res in catalog.resources
            for name in res.actions
            if (res.member, name) not in self.actions
        ]
        if unhandled:
            raise ValueError(f"no handler registered for the actions {', '.join(unhandled)}")
        self.sealer = sealer or Sealer()
        self.driver = driver
        self.options = options
        self.filter_validation = filter_validation
        self.max_limit = max_limit
        self.caching = response_cache
        #: lists without ``fields`` read straight into their wire form (the
        #: tests turn it off to compare with lists built through objects)
        self.direct_lists = True
        self.cache = ResponseCache()
        self.shown = ResponseCache(max_bytes=16 * 1024 * 1024, max_entries=4096)
        self.counters = Counters(db, schema)
        #: per resource, what its answers are built from (:mod:`vpnaas.api.reads`)
        self.read_sets = reads.read_sets(catalog, schema, rules, hooks)
        #: whole lists, cached as rows and refreshed by the rows written
        self.lists = Lists(self)

    # --- building blocks shared with the topology actions ------------------------

    def scope(self, ctx: RequestContext, res: Resource) -> Scope:
        """The rows of ``res`` the caller may see (``docs/api/policy.md`` §visibility)."""
        if ctx.unscoped or not res.owned:
            return Scope(None)
        custom = self.rules_for(res).visibility(ctx, self.schema, res)
        if custom is not None:
            return Scope(custom)
        if ctx.project_id is None:
            return Scope(sa.false())
        return Scope(project=ctx.project_id)

    def repo(self, conn: sa.Connection) -> Repo:
        """The repository over ``conn``: every read and write goes through it
        (secret attributes are sealed and opened there)."""
        return Repo(conn, self.schema, self.hooks, sealer=self.sealer)

    def rules_for(self, res: Resource) -> ResourceRules:
        return self.rules.get(res.member, _NO_RULES)

    @contextmanager
    def writing(self, ctx: RequestContext) -> Iterator[RuleEnv]:
        """A write transaction and the rule environment over it; the write
        counters of what it touched are bumped before it commits."""
        with self.db.write() as conn:
            env = self._env(ctx, conn)
            yield env
            env.repo.bump_revisions()

    @contextmanager
    def reading(self, ctx: RequestContext) -> Iterator[RuleEnv]:
        with self.db.read() as conn:
            yield self._env(ctx, conn)

    def _env(self, ctx: RequestContext, conn: sa.Connection) -> RuleEnv:
        repo = self.repo(conn)
        return RuleEnv(
            ctx=ctx,
            repo=repo,
            catalog=self.catalog,
            options=self.options,
            scope_of=lambda res: self.scope(ctx, res),
            guards=self.guards,
        )

    def not_found(self, res: Resource, obj_id: str) -> errors.ApiError:
        return errors.by_name(res.not_found)(id=obj_id)

    def policy_target(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        target = dict(obj)
        if res.owned:
            target[OWNER_ALIAS] = obj.get(OWNER)
        return target

    def read_target(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """What a read rule sees: the owner and the resource's declared fields."""
        target = {name: obj.get(name) for name in res.policy.target_fields}
        if res.owned:
            target[OWNER] = target[OWNER_ALIAS] = obj.get(OWNER)
        return target

    def can_get(self, ctx: RequestContext, res: Resource, obj: dict[str, Any]) -> bool:
        return self.authz.allowed(ctx, f"get_{res.member}", self.read_target(res, obj))

    def authorize_change(
        self,
        ctx: RequestContext,
        res: Resource,
        names: list[str],
        current: dict[str, Any],
        changes: dict[str, Any],
    ) -> None:
        """Authorization of a change to a stored object (update, delete, an
        action): 404 if the caller may not even see it, else 403."""
        target = self.policy_target(res, {**current, **changes})
        if not all(self.authz.allowed(ctx, name, target) for name in names):
            if not self.can_get(ctx, res, current):
                raise errors.HTTPNotFound()
            self.authz.authorize(ctx, names, target)

    # --- the five operations -------------------------------------------------------

    def index(
        self, ctx: RequestContext, res: Resource, params: query.Params, base_url: str
    ) -> bytes:
        """GET collection → 200 ``{"<collection>": [...]}`` (+ links when paged),
        encoded; served from the cache while nothing it depends on changed
        (a whole list brought up to date by the rows written since,
        :mod:`vpnaas.api.lists`)."""
        self.authz.check_scope(ctx, f"get_{res.member}")
        key = (res.member, ctx.identity, params.pairs, base_url)

        if not self.caching:
            return self._list(ctx, res, self._parse_list(res, params), params, base_url)[1]
        found = self.counters.read()

        def build(previous: object) -> tuple[Any, bytes, object]:
            q = self._parse_list(res, params)
            if self.lists.by_rows(res, q):
                return self.lists.build(ctx, res, q, previous, found)
            return (*self._list(ctx, res, q, params, base_url), None)

        version = (self.counters.of(self._reads(res), found), self.authz.generation())
        return self.cache.refresh(key, version, build)

    def _parse_list(self, res: Resource, params: query.Params) -> ListQuery:
        return query.parse_list(
            res, params, filter_validation=self.filter_validation, max_limit=self.max_limit
        )

    def _list(
        self,
        ctx: RequestContext,
        res: Resource,
        q: ListQuery,
        params: query.Params,
        base_url: str,
    ) -> tuple[Any, bytes]:
        """The list's body, built from the database, and the counters it was
        read at (None when nothing is cached). Without ``fields``, each row
        is read straight into its wire form (:func:`render.list_layout`):
        one dict per row, which the policy check and the loaders read too."""
        layout = render.list_layout(res) if self.direct_lists and q.fields is None else None
        with self.db.read() as conn:
            repo = self.repo(conn)
            version = (
                (repo.revisions(self._reads(res)), self.authz.generation())
                if self.caching
                else None
            )
            objs = repo.page(res, q, self.scope(ctx, res), layout)
        page = self.readable(ctx, res, objs)
        items = (
            render.strip(res, page)
            if layout is not None
            else [render.item(res, o, q.fields) for o in page]
        )
        doc: dict[str, Any] = {res.collection: items}
        if q.limit:
            doc[f"{res.collection}_links"] = render.links(
                res, base_url, params, page, q.limit, q.reverse
            )
        return version, orjson.dumps(doc)

    def _reads(self, res: Resource) -> tuple[str, ...]:
        return self.read_sets[res.member]

    def _version(self, res: Resource) -> tuple[Any, ...]:
        """What a cached answer about ``res`` was built from: the write
        counters of the tables it reads (from a read of every counter sent
        after this request arrived, :mod:`vpnaas.db.counters`) and the policy
        rules in force."""
        return (self.counters.of(self._reads(res)), self.authz.generation())

    def readable(
        self, ctx: RequestContext, res: Resource, objs: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The objects ``get_<member>`` lets the caller see (one check per
        distinct read target)."""
        allowed: dict[tuple[Any, ...], bool] = {}
        names = (OWNER, *res.policy.target_fields) if res.owned else res.policy.target_fields
        pick = picker(names)
        page = []
        for obj in objs:
            try:  # a list reads what the check looks at: one pick in C
                key = pick(obj)
            except KeyError:  # an attribute no loader filled
                key = tuple([obj.get(name) for name in names])
            found = allowed.get(key)
            if found is None:
                target = self.read_target(res, obj)
                found = allowed[key] = self.authz.allowed(ctx, f"get_{res.member}", target)
            if found:
                page.append(obj)
        return page

    def show(self, ctx: RequestContext, res: Resource, obj_id: str, params: query.Params) -> bytes:
        """GET member → 200 ``{"<member>": {...}}``, encoded; 404 if unknown
        or hidden. Served from the cache like lists (only 200s are kept)."""
        self.authz.check_scope(ctx, f"get_{res.member}")
        key = (res.member, obj_id, ctx.identity, params.pairs)
        if self.caching:
            cached = self.shown.get(key, self._version(res))
            if cached is not None:
                return cached
        fields = query.parse_fields(res, params)
        with self.db.read() as conn:
            repo = self.repo(conn)
            version = (repo.revisions(self._reads(res)), self.authz.generation())
            obj = repo.get(res, obj_id, self.scope(ctx, res))
        if obj is None:
            raise self.not_found(res, obj_id)
        if not self.can_get(ctx, res, obj):
            raise errors.HTTPNotFound()
        body = orjson.dumps({res.member: render.item(res, obj, fields)})
        if self.caching:
            self.shown.put(key, version, body)
        return body

    def create(
        self, ctx: RequestContext, res: Resource, doc: Any, obj_id: str | None = None
    ) -> dict[str, Any]:
        """POST collection → 201 with the new object (``obj_id``: a chosen id)."""
        self.authz.check_scope(ctx, f"create_{res.member}")
        prepared = body.prepare_create(res, ctx, doc)
        values = prepared.values
        self.authz.authorize(
            ctx,
            self.authz.write_rules(res, "create", values, create=True),
            self.policy_target(res, values),
        )
        obj = self._new_object(res, values, obj_id)
        with self.writing(ctx) as env:
            self.rules_for(res).on_create(env, obj)
            env.repo.insert(res, obj)
            stored = env.repo.get(res, obj["id"]) if self._computed(res) else obj
        assert stored is not None
        self.driver.created(res, stored)
        return {res.member: render.item(res, stored, echo=prepared.echo)}

    def update(self, ctx: RequestContext, res: Resource, obj_id: str, doc: Any) -> dict[str, Any]:
        """PUT member → 200 with the updated object."""
        self.authz.check_scope(ctx, f"update_{res.member}")
        prepared = body.prepare_update(res, doc)
        with self.writing(ctx) as env:
            current = env.repo.get(res, obj_id, self.scope(ctx, res), lock=True)
            if current is None:
                raise self.not_found(res, obj_id)
            body.merge_update(res, prepared, current)
            names = self.authz.write_rules(res, "update", prepared.values, create=False)
            self.authorize_change(ctx, res, names, current, prepared.values)
            self.rules_for(res).on_update(env, current, prepared.values)
            env.repo.update(res, obj_id, prepared.values)
            stored = (
                env.repo.get(res, obj_id) if self._computed(res) else {**current, **prepared.values}
            )
        assert stored is not None
        self.driver.updated(res, stored, current)
        return {res.member: render.item(res, stored, echo=prepared.echo)}

    def delete(self, ctx: RequestContext, res: Resource, obj_id: str) -> None:
        """DELETE member → 204."""
        self.authz.check_scope(ctx, f"delete_{res.member}")
        with self.writing(ctx) as env:
            current = env.repo.get(res, obj_id, self.scope(ctx, res), lock=True)
            if current is None:
                raise self.not_found(res, obj_id)
            self.authorize_change(ctx, res, [f"delete_{res.member}"], current, {})
            self.rules_for(res).on_delete(env, current)
            env.repo.delete(res, obj_id)
        self.driver.deleted(res, current)

    def act(
        self, ctx: RequestContext, res: Resource, action: str, obj_id: str, doc: Any
    ) -> dict[str, Any]:
        """PUT member action → 200 with the handler's answer. The object is
        found as the caller sees it, locked and authorized by the action's own
        rule before its handler sees the (bare) body."""
        handler = self.actions[(res.member, action)]
        self.authz.check_scope(ctx, action)
        with self.writing(ctx) as env:
            current = env.lookup(res.member, obj_id, lock=True)
            self.authorize_change(ctx, res, [action], current, {})
            return handler(env, current, doc)

    @staticmethod
    def _computed(res: Resource) -> bool:
        """Whether a response shows attributes only a read can compute."""
        return any(not f.stored for f in res.fields)

    def _new_object(
        self, res: Resource, values: dict[str, Any], obj_id: str | None
    ) -> dict[str, Any]:
        obj = {"id": obj_id or str(uuid.uuid4())}
        for fld in res.fields:
            if fld.name == "id":
                continue
            if fld.name in values:
                obj[fld.name] = values[fld.name]
            elif not fld.create and fld.stored:
                obj[fld.name] = fld.default
        return obj
