"""The strongswan driver's overlap and IKE-group checks give the answer a
comparison with every connection of the router gives (docs/decisions.md,
"What the strongswan driver refuses", "IKE groups").

The checks compare with a copy of the router's connections each process
keeps and brings up to date from the rows written since. Here a router
holds connections written straight to the tables, past the rules, so that
groups may already disagree and identities differ by a trailing space or an
empty local id; for many candidate connections (new ones, and updates of
stored ones) the driver's check must raise the same error with the same
message as the reference below, which loads every connection of the router
and compares them one by one, or pass where it passes, also while another
process (a second application on the same database) inserts, changes and
deletes connections between the checks. With psks in clear and sealed; on
SQLite, or on ``VPNAAS_TEST_DATABASE_URL``'s server.
"""

from __future__ import annotations

import ipaddress
import os
import random
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from tests.support import databases
from vpnaas import errors
from vpnaas.api import body
from vpnaas.app import Application, create_app
from vpnaas.context import RequestContext
from vpnaas.db.secrets import generate_key
from vpnaas.db.tables import schema
from vpnaas.drivers.strongswan.rules import GROUP_SETTINGS, DriverConnectionRules
from vpnaas.drivers.strongswan.state import load_rows, peer_cidrs
from vpnaas.hooks import RuleEnv
from vpnaas.settings import Settings, TopologySeed
from vpnaas.topology.seed import seed_external_network

PROJECT = uuid.uuid4().hex
ADMIN = RequestContext(project_id=None, is_admin=True)
CONNECTION = "ipsec_site_connection"
PEERS = ("198.51.100.7", "198.51.100.8")
PEER_IDS = ("peer", "peer ", "@other")
PSKS = ("secret", "secret ", "another")
DPDS = (
    {"action": "hold", "interval": 30, "timeout": 120},
    {"action": "hold", "interval": 2, "timeout": 6},
    {"action": "restart", "interval": 30, "timeout": 120},
)
STORED = 40
CANDIDATES = 150


def _block(n: int) -> ipaddress.IPv4Network:
    """The ``n``-th /24 of 10.50.0.0/15."""
    return ipaddress.IPv4Network((int(ipaddress.IPv4Address("10.50.0.0")) + 256 * n, 24))


def _reference(env: RuleEnv, conn: dict[str, Any]) -> None:
    """The checks as a comparison with every connection of the router."""
    service = env.repo.get(env.res("vpnservice"), conn["vpnservice_id"])
    assert service is not None
    router_id = service["router_id"]
    rows = load_rows(env, [router_id], extra=[conn])
    others = [
        other
        for sibling in rows.services.get(router_id, [])
        for other in rows.connections.get(sibling["id"], [])
        if other["id"] != conn["id"]
    ]
    mine = [ipaddress.ip_network(cidr, strict=False) for cidr in peer_cidrs(rows, conn)]
    for other in others:
        for cidr in peer_cidrs(rows, other):
            for net in mine:
                if net.overlaps(ipaddress.ip_network(cidr, strict=False)):
                    raise errors.OverlappingPeerCidrs(
                        cidr=str(net), other=cidr, connection=other["id"], router_id=router_id
                    )
    address = rows.addresses[router_id]

    def key(c: dict[str, Any]) -> tuple[Any, ...]:
        return (c["peer_address"], c["local_id"] or address, c["peer_id"])

    for other in others:
        if key(other) == key(conn):
            for setting in GROUP_SETTINGS:
                if other[setting] != conn[setting]:
                    raise errors.IKEGroupConflict(
                        connection=other["id"], router_id=router_id, attribute=setting
                    )


def _outcome(check: Any, env: RuleEnv, conn: dict[str, Any]) -> tuple[str, str] | None:
    try:
        check(env, conn)
    except errors.ApiError as exc:
        return type(exc).__name__, str(exc)
    return None


class Router:
    """A router with two services (legacy, endpoint groups) and a second
    router whose connections never count."""

    def __init__(self, app: Application, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.client = testing.TestClient(app.wsgi)
        self.rng = random.Random(1307)
        public = seed_external_network(app.controller, TopologySeed())
        gateway = {"network_id": public}
        net = self.make("networks", "network", name="lan")
        subnet = self.make("subnets", "subnet", network_id=net, cidr="10.10.0.0/24", ip_version=4)
        self.routers = []
        for _ in range(2):
            router = self.make("routers", "router", external_gateway_info=gateway)
            self.routers.append(router)
        path = f"routers/{self.routers[0]}/add_router_interface"
        self.call("PUT", path, {"subnet_id": subnet})
        self.legacy = self.make(
            "vpn/vpnservices", "vpnservice", router_id=self.routers[0], subnet_id=subnet
        )
        self.grouped = self.make("vpn/vpnservices", "vpnservice", router_id=self.routers[0])
        self.elsewhere = self.make("vpn/vpnservices", "vpnservice", router_id=self.routers[1])
        self.ikes = [self.make("vpn/ikepolicies", "ikepolicy") for _ in range(2)]
        self.esp = self.make("vpn/ipsecpolicies", "ipsecpolicy")
        self.local = self.make("vpn/endpoint-groups", "endpoint_group", type="subnet",
                               endpoints=[subnet])  # fmt: skip
        self.blocks = 0  # 10.50.<n>.0/24 handed out
        with app.controller.reading(ADMIN) as env:
            rows = load_rows(env, [self.routers[0]])
            self.address = rows.addresses[self.routers[0]]
        assert self.address is not None
        self.stored: list[str] = []

    def call(self, method: str, path: str, doc: dict[str, Any] | None = None) -> Any:
        headers = {"X-Project-Id": PROJECT, "X-Roles": "admin,member,reader"}
        result = self.client.simulate_request(method, f"/v2.0/{path}", json=doc, headers=headers)
        assert result.status_code in (200, 201, 204), (path, result.text)
        return result.json if result.text else {}

    def make(self, path: str, member: str, **values: Any) -> str:
        return str(self.call("POST", path, {member: values})[member]["id"])

    def peer_cidrs(self, overlapping: bool) -> list[str]:
        """One or two peer CIDRs: new /24s, or (``overlapping``) one that
        overlaps some already handed out: the same, a half or a host of
        one, or a shorter prefix over it (host bits set or not)."""
        if overlapping and self.blocks:
            block = _block(self.rng.randrange(self.blocks))
            inside = self.rng.choice(
                (block, next(block.subnets()), f"{block.network_address + 9}/32")
            )
            over = self.rng.choice(
                (f"{block.network_address + 9}/23", block.supernet(new_prefix=16), "10.48.0.0/12")
            )
            return [str(self.rng.choice((inside, over)))]
        self.blocks += 2
        cidrs = [str(_block(self.blocks - 2)), str(_block(self.blocks - 1))]
        return cidrs[: self.rng.choice((1, 1, 2))]

    def random_connection(self, overlapping: bool = False) -> dict[str, Any]:
        """A connection as a create hook sees it, from small pools of values
        (so that groups form, agree and disagree)."""
        pick = self.rng.choice
        service = pick((self.legacy, self.grouped, self.grouped, self.elsewhere))
        values: dict[str, Any] = {
            "vpnservice_id": service,
            "ikepolicy_id": pick(self.ikes),
            "ipsecpolicy_id": self.esp,
            "peer_address": pick(PEERS),
            "peer_id": pick(PEER_IDS),
            "local_id": pick(("", "", self.address, "me", "me ")),
            "psk": pick(PSKS),
            "dpd": pick(DPDS),
            "initiator": pick(("bi-directional", "response-only")),
            "admin_state_up": pick((True, True, False)),
        }
        cidrs = self.peer_cidrs(overlapping)
        if service == self.grouped:
            peer = self.make("vpn/endpoint-groups", "endpoint_group", type="cidr", endpoints=cidrs)
            values.update(local_ep_group_id=self.local, peer_ep_group_id=peer)
        else:
            values["peer_cidrs"] = cidrs
        res = self.app.controller.catalog[CONNECTION]
        ctx = RequestContext(project_id=PROJECT, roles=frozenset({"member"}))
        obj = body.prepare_create(res, ctx, {CONNECTION: values}).values
        server_side = {f.name: f.default for f in res.stored if not f.create}
        return {**server_side, "id": str(uuid.uuid4()), **obj}

    def store(self, count: int) -> None:
        """``count`` connections written past every rule (so that some
        overlap)."""
        res = self.app.controller.catalog[CONNECTION]
        conns = [self.random_connection(self.rng.random() < 0.2) for _ in range(count)]
        with self.app.controller.writing(ADMIN) as env:
            for conn in conns:
                env.repo.insert(res, conn)
        self.stored.extend(conn["id"] for conn in conns)

    def candidate(self) -> dict[str, Any]:
        """A new connection, or a stored one with some attributes changed."""
        fresh = self.random_connection(overlapping=self.rng.random() < 0.4)
        if self.rng.random() < 0.6:
            return fresh
        with self.app.controller.reading(ADMIN) as env:
            current = env.lookup(CONNECTION, self.rng.choice(self.stored))
        changed = self.rng.sample(sorted(GROUP_SETTINGS), 2)
        return {**current, **{name: fresh[name] for name in changed if name != "ikepolicy_id"}}


@pytest.fixture(scope="module", params=["clear", "sealed"])
def router(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Router]:
    tmp: Path = tmp_path_factory.mktemp("siblings")
    server_url = os.environ.get("VPNAAS_TEST_DATABASE_URL")
    sqlite = f"sqlite:///{tmp / 'vpnaas.sqlite'}"
    with databases.fresh_database(server_url) if server_url else nullcontext(sqlite) as url:
        keys = (generate_key(),) if request.param == "sealed" else ()
        settings = Settings(database_url=url, driver="strongswan", secret_keys=keys)
        app = create_app(settings)
        schema().metadata.create_all(app.db.engine)
        try:
            world = Router(app, settings)
            world.store(STORED)
            yield world
        finally:
            app.db.dispose()


def test_the_checks_answer_as_a_comparison_with_every_connection(router: Router) -> None:
    rules = DriverConnectionRules(allow_aggressive=False)
    outcomes: list[str] = []
    for _ in range(CANDIDATES):
        conn = router.candidate()
        with router.app.controller.writing(ADMIN) as env:
            expected = _outcome(_reference, env, conn)
            assert _outcome(rules.check, env, conn) == expected, conn
        outcomes.append(expected[0] if expected else "passes")
    # the pools make every outcome common; a change in them shows here
    assert {"passes", "OverlappingPeerCidrs", "IKEGroupConflict"} <= set(outcomes)


def test_a_kept_copy_answers_as_a_fresh_read_while_another_process_writes(
    router: Router,
) -> None:
    """The copy a process keeps of the router is read once, then only the
    rows written since: another process's inserts, changes (also of the
    group settings and peer CIDRs) and deletes show in the next check."""
    rules = DriverConnectionRules(allow_aggressive=False)
    other = create_app(router.settings)  # a second worker on the same database
    res = router.app.controller.catalog[CONNECTION]
    rng = random.Random(2203)
    writes: list[str] = []
    try:
        for _ in range(CANDIDATES // 2):
            conn = router.candidate()
            with router.app.controller.writing(ADMIN) as env:
                assert _outcome(rules.check, env, conn) == _outcome(_reference, env, conn), conn
            kind = rng.choice(("insert", "update", "update", "delete"))
            new = router.random_connection(overlapping=rng.random() < 0.5)  # its group: a write
            changed = router.candidate()
            keep = {"id", "vpnservice_id", "local_ep_group_id", "peer_ep_group_id"}
            changes = {k: v for k, v in changed.items() if k in res.by_name and k not in keep}
            with other.controller.writing(ADMIN) as env:
                if kind == "insert":
                    env.repo.insert(res, new)
                    router.stored.append(new["id"])
                elif kind == "update" and changed["id"] in router.stored:
                    env.repo.update(res, changed["id"], changes)
                elif kind == "delete" and len(router.stored) > STORED // 2:
                    gone = router.stored.pop(rng.randrange(len(router.stored)))
                    assert env.repo.delete(res, gone)
            writes.append(kind)
    finally:
        other.db.dispose()
    assert {"insert", "update", "delete"} <= set(writes)


class _Abandon(Exception):
    """Leaves a write transaction, rolling it back."""


def test_a_copy_never_keeps_rows_not_numbered_yet(router: Router) -> None:
    """Rows a transaction wrote and has not numbered (its own, before it
    commits) count in its own checks, never in the copy later ones use."""
    rules = DriverConnectionRules(allow_aggressive=False)
    res = router.app.controller.catalog[CONNECTION]
    fresh = {**router.random_connection(), "vpnservice_id": router.legacy}
    fresh["peer_cidrs"] = ["10.99.0.0/24"]
    overlapping = {**router.random_connection(), "vpnservice_id": router.legacy}
    overlapping["peer_cidrs"] = ["10.99.0.128/25"]

    def insert_then_abandon() -> None:
        with router.app.controller.writing(ADMIN) as env:
            _outcome(rules.check, env, {**overlapping, "peer_cidrs": ["10.98.0.0/24"]})  # warm
            env.repo.insert(res, fresh)
            with pytest.raises(errors.OverlappingPeerCidrs, match=fresh["id"]):
                rules.check(env, overlapping)
            raise _Abandon

    with pytest.raises(_Abandon):
        insert_then_abandon()
    with router.app.controller.writing(ADMIN) as env:
        assert env.find(CONNECTION, fresh["id"]) is None
        outcome = _outcome(rules.check, env, overlapping)
        assert outcome == _outcome(_reference, env, overlapping)
        assert outcome is None or outcome[0] != "OverlappingPeerCidrs"
