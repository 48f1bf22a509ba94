"""openstacksdk with password auth through the Keystone catalog.

The SDK gets nothing but Keystone's ``auth_url`` and a user's credentials (a
``clouds.yaml`` cloud entry, passed as a dict): it authenticates, finds
``network`` in the token's catalog (vpnaas' *unversioned* root), reads the
version document there, appends ``v2.0`` and then talks to vpnaas with the
token, which vpnaas validates with Keystone (``auth_strategy = keystone``).
What it creates belongs to the token's project and stays invisible to another
project's member.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.keystone import REGION, Keystone, Project, User
from tests.tempest.conftest import KeystoneVpnaas

openstack = pytest.importorskip("openstack")
from openstack import exceptions  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # openstacksdk's own deprecation notices about its internals
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack.*"),
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def cloud_config(keystone: Keystone, user: User) -> dict[str, Any]:
    """One ``clouds:`` entry of a clouds.yaml for ``user`` (password auth)."""
    assert user.project is not None
    return {
        "auth_type": "password",
        "auth": {
            "auth_url": keystone.auth_url,
            "username": user.name,
            "password": user.password,
            "user_domain_id": user.domain_id,
            "project_name": user.project.name,
            "project_domain_id": user.project.domain_id,
        },
        "identity_api_version": "3",
        "region_name": REGION,
        "interface": "public",
    }


def connect(keystone: Keystone, user: User) -> Any:
    """``openstack.connect`` with only the cloud entry: no clouds.yaml, no OS_* variables."""
    return openstack.connect(
        load_yaml_config=False, load_envvars=False, **cloud_config(keystone, user)
    )


@dataclass(frozen=True)
class Member:
    project: Project
    user: User


def _member(keystone: Keystone, label: str) -> Member:
    project = keystone.create_project(unique(f"sdk-{label}"))
    user = keystone.create_user(unique(f"sdk-{label}-member"), project, ["member"])
    return Member(project, user)


@pytest.fixture(scope="module")
def member(keystone_vpnaas: KeystoneVpnaas) -> Member:
    return _member(keystone_vpnaas.keystone, "a")


@pytest.fixture(scope="module")
def other(keystone_vpnaas: KeystoneVpnaas) -> Member:
    return _member(keystone_vpnaas.keystone, "b")


@pytest.fixture(scope="module")
def conn(keystone_vpnaas: KeystoneVpnaas, member: Member) -> Iterator[Any]:
    c = connect(keystone_vpnaas.keystone, member.user)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def other_conn(keystone_vpnaas: KeystoneVpnaas, other: Member) -> Iterator[Any]:
    c = connect(keystone_vpnaas.keystone, other.user)
    try:
        yield c
    finally:
        c.close()


def test_catalog_has_the_unversioned_root(keystone_vpnaas: KeystoneVpnaas, member: Member) -> None:
    token = keystone_vpnaas.keystone.issue_token(member.user)
    (network,) = [s for s in token.catalog if s["type"] == "network"]
    urls = {ep["interface"]: ep["url"] for ep in network["endpoints"]}
    assert urls == dict.fromkeys(("public", "internal", "admin"), keystone_vpnaas.server.url)


def test_sdk_discovers_v2_from_the_catalog(
    conn: Any, keystone_vpnaas: KeystoneVpnaas, member: Member
) -> None:
    root = keystone_vpnaas.server.url  # http://127.0.0.1:PORT/
    assert conn.network.get_endpoint().rstrip("/") == root + "v2.0"
    assert conn.current_project_id == member.project.id
    # an authenticated call through the discovered endpoint
    public = conn.network.get_network(keystone_vpnaas.public_network_id)
    assert public.is_router_external
    assert public.project_id == keystone_vpnaas.admin_project.id


def test_ike_policy_and_vpn_service(
    conn: Any, other_conn: Any, keystone_vpnaas: KeystoneVpnaas, member: Member
) -> None:
    """Create and list an IKE policy and a VPN service (with its topology) as a
    Keystone project member; another project sees none of it."""
    net = conn.network
    with contextlib.ExitStack() as undo:
        ike = net.create_vpn_ike_policy(
            name=unique("ike"), auth_algorithm="sha256", encryption_algorithm="aes-256"
        )
        undo.callback(net.delete_vpn_ike_policy, ike, ignore_missing=True)
        network = net.create_network(name=unique("net"))
        undo.callback(net.delete_network, network, ignore_missing=True)
        subnet = net.create_subnet(
            name=unique("subnet"),
            network_id=network.id,
            ip_version=4,
            cidr=f"10.{uuid.uuid4().int % 200 + 10}.1.0/24",
        )
        undo.callback(net.delete_subnet, subnet, ignore_missing=True)
        router = net.create_router(
            name=unique("router"),
            external_gateway_info={"network_id": keystone_vpnaas.public_network_id},
        )
        undo.callback(net.delete_router, router, ignore_missing=True)
        net.add_interface_to_router(router, subnet=subnet.id)
        undo.callback(_remove_interface, conn, router, subnet)
        service = net.create_vpn_service(
            name=unique("vpn"), router_id=router.id, subnet_id=subnet.id
        )
        undo.callback(net.delete_vpn_service, service, ignore_missing=True)

        assert ike.project_id == member.project.id
        assert service.project_id == member.project.id
        assert service.router_id == router.id
        assert service.subnet_id == subnet.id
        assert service.external_v4_ip  # the router's gateway address on public

        (listed_ike,) = net.vpn_ike_policies(name=ike.name)
        assert (listed_ike.id, listed_ike.auth_algorithm) == (ike.id, "sha256")
        assert ike.id in {p.id for p in net.vpn_ike_policies()}
        (listed,) = net.vpn_services(name=service.name)
        assert (listed.id, listed.router_id, listed.subnet_id) == (
            service.id,
            router.id,
            subnet.id,
        )
        assert net.find_vpn_service(service.name).id == service.id

        # scoped to the token's project: another project's member sees nothing
        assert list(other_conn.network.vpn_ike_policies(name=ike.name)) == []
        assert list(other_conn.network.vpn_services(name=service.name)) == []
        with pytest.raises(exceptions.NotFoundException):
            other_conn.network.get_vpn_service(service.id)


def _remove_interface(conn: Any, router: Any, subnet: Any) -> None:
    with contextlib.suppress(exceptions.NotFoundException):
        conn.network.remove_interface_from_router(router, subnet=subnet.id)
