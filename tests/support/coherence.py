"""Cached answers equal fresh ones: a state machine over every resource.

:class:`Coherence` writes through a caching vpnaas (random creates, updates,
deletes and router actions, as two projects' members and an admin) and
after every step asks every list and show as each identity (project A's
member and reader, project B's member, project B's admin) twice: from the
caching vpnaas and from one with ``response_cache`` off over the same
database. The answers must be equal, status and body. A :class:`Target`
says where the two are: two apps in process, or a real ``vpnaas serve
--workers 2`` and a cache-off app on its database file.

With a :class:`Recorder` on the cache-off app, every statement a read runs
is also checked against the resources its answers are versioned by
(``Controller.read_sets``): a dependency the code has but does not declare
fails here even when no step happened to expose a stale answer.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from falcon import testing
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.support.matrix import ADMIN, OTHER, OWNER, PEER, READER, noauth_headers
from vpnaas.app import Application
from vpnaas.spec import catalog

__all__ = ["Cast", "Coherence", "Recorder", "Target", "app_side", "machine", "noauth_cast"]

#: (status, decoded body) of one request
Answer = tuple[int, Any]
#: method, path (query string included), headers, JSON body
Side = Callable[[str, str, Mapping[str, str], Any], Answer]

PATHS = {res.member: f"/v2.0{res.path}" for res in catalog().resources}
WRITERS = (OWNER, OTHER, ADMIN)
READERS = (OWNER, READER, OTHER, ADMIN)
#: the peer side of every endpoint group of type cidr
PEERS = "10.254.0.0/24"


@dataclass(frozen=True)
class Cast:
    """Two projects and how each identity authenticates."""

    project_a: str
    project_b: str
    headers: Mapping[str, Mapping[str, str]]


class Recorder:
    """The resources whose tables the statements run on an app's engine
    read, while :meth:`reading`."""

    def __init__(self, app: Application) -> None:
        self.schema = app.controller.schema
        self.read_sets = app.controller.read_sets
        self.seen: set[str] | None = None
        sa.event.listen(app.db.engine, "before_execute", self._record)

    def _record(self, conn: Any, clause: Any, *args: Any) -> None:
        if self.seen is not None and isinstance(clause, sa.ClauseElement):
            self.seen |= self.schema.members_read_by(clause)

    @contextmanager
    def reading(self, member: str) -> Iterator[None]:
        """Insist that what runs inside reads only what ``member``'s answers
        are versioned by."""
        self.seen = set()
        try:
            yield
            undeclared = self.seen - set(self.read_sets[member])
            assert not undeclared, f"a read of {member} reads undeclared {sorted(undeclared)}"
        finally:
            self.seen = None


def noauth_cast() -> Cast:
    """Two fresh projects and the noauth headers of their identities."""
    project_a, project_b = uuid.uuid4().hex, uuid.uuid4().hex
    return Cast(project_a, project_b, noauth_headers(project_a, project_b))


def app_side(app: Application) -> Side:
    """Requests to an in-process app."""
    client = testing.TestClient(app)

    def call(method: str, path: str, headers: Mapping[str, str], body: Any) -> Answer:
        route, _, query = path.partition("?")
        got = client.simulate_request(
            method, route, query_string=query or None, headers=dict(headers), json=body
        )
        return got.status_code, got.json if got.text else None

    return call


@dataclass
class Target:
    """Where the caching and the cache-off vpnaas are."""

    cached: Side
    fresh: Side
    cast: Callable[[], Cast]  # the identities of one run (fresh projects or fixed ones)
    public_network: str
    recorder: Recorder | None = None
    #: how often each read goes to the cached side (2 workers: each answers some)
    repeat: int = 1


@dataclass
class _Objects:
    live: dict[str, list[str]] = field(default_factory=lambda: {m: [] for m in PATHS})
    ever: dict[str, list[str]] = field(default_factory=lambda: {m: [] for m in PATHS})

    def add(self, member: str, obj_id: str) -> None:
        self.live[member].append(obj_id)
        self.ever[member].append(obj_id)


class Coherence(RuleBasedStateMachine):
    """Random writes; after each, cached answers equal fresh ones."""

    target: Target  # set by :func:`machine`

    def __init__(self) -> None:
        super().__init__()
        self.cast = self.target.cast()
        self.objects = _Objects()
        self.names = itertools.count()

    # --- requests -------------------------------------------------------------

    def write(self, actor: str, method: str, path: str, body: Any = None) -> Answer:
        status, doc = self.target.cached(method, path, self.cast.headers[actor], body)
        assert status < 500, f"{actor} {method} {path} {body}: {status} {doc}"
        return status, doc

    def create(self, actor: str, member: str, attrs: dict[str, Any]) -> str | None:
        status, doc = self.write(actor, "POST", PATHS[member], {member: attrs})
        if status != 201:
            return None
        obj_id = str(doc[member]["id"])
        self.objects.add(member, obj_id)
        return obj_id

    def compare(self, actor: str, member: str, path: str) -> None:
        headers = self.cast.headers[actor]
        if self.target.recorder is None:
            fresh = self.target.fresh("GET", path, headers, None)
        else:
            with self.target.recorder.reading(member):
                fresh = self.target.fresh("GET", path, headers, None)
        for _ in range(self.target.repeat):
            cached = self.target.cached("GET", path, headers, None)
            assert cached == fresh, f"{actor} GET {path}:\ncached {cached}\nfresh  {fresh}"

    def pick(self, data: st.DataObject, member: str) -> str:
        return data.draw(st.sampled_from(self.objects.live[member]), label=member)

    def name(self) -> str:
        return f"n{next(self.names)}"

    # --- the check after every step ------------------------------------------------

    @invariant()
    def cached_answers_equal_fresh_ones(self) -> None:
        shared_subnets = PATHS["subnet"] + "?shared=true"
        for actor in READERS:
            for member, path in PATHS.items():
                self.compare(actor, member, path)
            self.compare(actor, "subnet", shared_subnets)
            for member, ids in self.objects.ever.items():
                for obj_id in ids:
                    self.compare(actor, member, f"{PATHS[member]}/{obj_id}")

    # --- a whole site first ------------------------------------------------------------

    @initialize(actor=st.sampled_from((OWNER, ADMIN)), shared=st.booleans())
    def build_site(self, actor: str, shared: bool) -> None:
        """Network, subnet, router with gateway and interface, VPN service,
        policies, endpoint groups and a connection, all of project A: every
        run starts with one of each, so its steps change what exists (and a
        run whose identities cannot write fails here, not vacuously)."""
        network = self.made(ADMIN, "network", self.owned(ADMIN))
        if shared:
            self.set_shared_of(network, True)
        subnet = self.made(
            OWNER, "subnet", {"network_id": network, "ip_version": 4, "cidr": "10.0.0.0/24"}
        )
        gateway = {"network_id": self.target.public_network}
        router = self.made(actor, "router", self.owned(actor, external_gateway_info=gateway))
        assert self.interface(OWNER, router, subnet, "add") == 200
        refs = [
            self.made(actor, "vpnservice", self.owned(actor, router_id=router)),
            self.made(actor, "ikepolicy", self.owned(actor)),
            self.made(actor, "ipsecpolicy", self.owned(actor)),
            self.made(
                actor, "endpoint_group", self.owned(actor, type="subnet", endpoints=[subnet])
            ),
            self.made(actor, "endpoint_group", self.owned(actor, type="cidr", endpoints=[PEERS])),
        ]
        assert self.connection(actor, *refs) is not None

    def made(self, actor: str, member: str, attrs: dict[str, Any]) -> str:
        obj_id = self.create(actor, member, attrs)
        assert obj_id is not None, f"{actor} could not create {member} {attrs}"
        return obj_id

    def owned(self, actor: str, **attrs: Any) -> dict[str, Any]:
        """A create body in project A (the admin names the project)."""
        body = {"name": self.name(), **attrs}
        if actor == ADMIN:
            body["project_id"] = self.cast.project_a
        return body

    def connection(self, actor: str, *refs: str) -> str | None:
        service, ike, ipsec, local, peer = refs
        return self.create(
            actor,
            "ipsec_site_connection",
            self.owned(
                actor,
                vpnservice_id=service,
                ikepolicy_id=ike,
                ipsecpolicy_id=ipsec,
                local_ep_group_id=local,
                peer_ep_group_id=peer,
                peer_address=PEER,
                peer_id=PEER,
                psk="secret",
            ),
        )

    # --- topology ------------------------------------------------------------------

    @rule(actor=st.sampled_from(WRITERS), shared=st.booleans())
    def create_network(self, actor: str, shared: bool) -> None:
        self.create(actor, "network", {"name": self.name(), "shared": shared})

    def set_shared_of(self, network: str, shared: bool) -> None:
        body = {"network": {"shared": shared}}
        self.write(ADMIN, "PUT", f"{PATHS['network']}/{network}", body)

    @precondition(lambda self: self.objects.live["network"])
    @rule(data=st.data(), shared=st.booleans())
    def set_shared(self, data: st.DataObject, shared: bool) -> None:
        self.set_shared_of(self.pick(data, "network"), shared)

    @precondition(lambda self: self.objects.live["network"])
    @rule(data=st.data(), actor=st.sampled_from(WRITERS), third=st.integers(0, 3))
    def create_subnet(self, data: st.DataObject, actor: str, third: int) -> None:
        network = self.pick(data, "network")
        cidr = f"10.{200 + third}.0.0/24"
        self.create(actor, "subnet", {"network_id": network, "ip_version": 4, "cidr": cidr})

    @precondition(lambda self: self.objects.live["subnet"])
    @rule(data=st.data(), actor=st.sampled_from(WRITERS))
    def delete_subnet(self, data: st.DataObject, actor: str) -> None:
        """Also by the generic :meth:`delete`; on its own, as a network's
        answers change with it."""
        self.remove(actor, "subnet", self.pick(data, "subnet"))

    @rule(actor=st.sampled_from(WRITERS), gateway=st.booleans())
    def create_router(self, actor: str, gateway: bool) -> None:
        attrs: dict[str, Any] = {"name": self.name()}
        if gateway:
            attrs["external_gateway_info"] = {"network_id": self.target.public_network}
        self.create(actor, "router", attrs)

    @precondition(lambda self: self.objects.live["router"])
    @rule(data=st.data(), actor=st.sampled_from(WRITERS), attach=st.booleans())
    def set_or_clear_gateway(self, data: st.DataObject, actor: str, attach: bool) -> None:
        info = {"network_id": self.target.public_network} if attach else {}
        body = {"router": {"external_gateway_info": info}}
        self.write(actor, "PUT", f"{PATHS['router']}/{self.pick(data, 'router')}", body)

    def interface(self, actor: str, router: str, subnet: str, action: str) -> int:
        path = f"{PATHS['router']}/{router}/{action}_router_interface"
        status, doc = self.write(actor, "PUT", path, {"subnet_id": subnet})
        if status == 200 and action == "add":
            self.objects.add("port", str(doc["port_id"]))
        return status

    @precondition(lambda self: self.objects.live["router"] and self.objects.live["subnet"])
    @rule(data=st.data(), actor=st.sampled_from(WRITERS), add=st.booleans())
    def add_or_remove_interface(self, data: st.DataObject, actor: str, add: bool) -> None:
        router, subnet = self.pick(data, "router"), self.pick(data, "subnet")
        self.interface(actor, router, subnet, "add" if add else "remove")

    # --- VPN resources -------------------------------------------------------------

    @rule(
        actor=st.sampled_from(WRITERS),
        member=st.sampled_from(["ikepolicy", "ipsecpolicy"]),
    )
    def create_policy(self, actor: str, member: str) -> None:
        self.create(actor, member, {"name": self.name()})

    @precondition(lambda self: self.objects.live["router"])
    @rule(data=st.data(), actor=st.sampled_from(WRITERS))
    def create_vpnservice(self, data: st.DataObject, actor: str) -> None:
        self.create(
            actor, "vpnservice", {"name": self.name(), "router_id": self.pick(data, "router")}
        )

    @rule(data=st.data(), actor=st.sampled_from(WRITERS), subnet=st.booleans())
    def create_endpoint_group(self, data: st.DataObject, actor: str, subnet: bool) -> None:
        if subnet and self.objects.live["subnet"]:
            attrs = {"type": "subnet", "endpoints": [self.pick(data, "subnet")]}
        else:
            attrs = {"type": "cidr", "endpoints": [PEERS]}
        self.create(actor, "endpoint_group", {"name": self.name(), **attrs})

    @precondition(lambda self: self.objects.live["vpnservice"])
    @rule(data=st.data(), actor=st.sampled_from(WRITERS))
    def create_connection(self, data: st.DataObject, actor: str) -> None:
        live = self.objects.live
        if not (live["ikepolicy"] and live["ipsecpolicy"] and len(live["endpoint_group"]) > 1):
            return
        members = ("vpnservice", "ikepolicy", "ipsecpolicy", "endpoint_group", "endpoint_group")
        self.connection(actor, *(self.pick(data, m) for m in members))

    # --- any resource -------------------------------------------------------------

    @rule(data=st.data(), actor=st.sampled_from(WRITERS), member=st.sampled_from(list(PATHS)))
    def rename(self, data: st.DataObject, actor: str, member: str) -> None:
        if member != "port" and self.objects.live[member]:
            obj = self.pick(data, member)
            self.write(actor, "PUT", f"{PATHS[member]}/{obj}", {member: {"name": self.name()}})

    @rule(data=st.data(), actor=st.sampled_from(WRITERS), member=st.sampled_from(list(PATHS)))
    def delete(self, data: st.DataObject, actor: str, member: str) -> None:
        if member != "port" and self.objects.live[member]:
            self.remove(actor, member, self.pick(data, member))

    def remove(self, actor: str, member: str, obj: str) -> None:
        status, _ = self.write(actor, "DELETE", f"{PATHS[member]}/{obj}")
        if status == 204:
            self.objects.live[member].remove(obj)


def machine(target: Target) -> type[Coherence]:
    """The state machine class over ``target``."""
    return type("CoherenceOn", (Coherence,), {"target": target})
