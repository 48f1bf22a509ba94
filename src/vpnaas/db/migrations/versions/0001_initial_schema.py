"""Initial schema: every table the spec derived at 0.1.0.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoint_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_groups")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_endpoint_groups_project_id"), "endpoint_groups", ["project_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_endpoint_groups_type"), "endpoint_groups", ["type", "id"], unique=False
    )
    op.create_table(
        "ikepolicies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("auth_algorithm", sa.String(length=64), nullable=False),
        sa.Column("encryption_algorithm", sa.String(length=64), nullable=False),
        sa.Column("phase1_negotiation_mode", sa.String(length=64), nullable=False),
        sa.Column("lifetime_units", sa.String(length=64), nullable=False),
        sa.Column("lifetime_value", sa.Integer(), nullable=False),
        sa.Column("ike_version", sa.String(length=64), nullable=False),
        sa.Column("pfs", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ikepolicies")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(op.f("ix_ikepolicies_name"), "ikepolicies", ["name", "id"], unique=False)
    op.create_index(
        op.f("ix_ikepolicies_project_id"), "ikepolicies", ["project_id", "id"], unique=False
    )
    op.create_table(
        "ipsecpolicies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("transform_protocol", sa.String(length=64), nullable=False),
        sa.Column("auth_algorithm", sa.String(length=64), nullable=False),
        sa.Column("encryption_algorithm", sa.String(length=64), nullable=False),
        sa.Column("encapsulation_mode", sa.String(length=64), nullable=False),
        sa.Column("lifetime_units", sa.String(length=64), nullable=False),
        sa.Column("lifetime_value", sa.Integer(), nullable=False),
        sa.Column("pfs", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ipsecpolicies")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(op.f("ix_ipsecpolicies_name"), "ipsecpolicies", ["name", "id"], unique=False)
    op.create_index(
        op.f("ix_ipsecpolicies_project_id"), "ipsecpolicies", ["project_id", "id"], unique=False
    )
    op.create_table(
        "networks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("router_external", sa.Boolean(), nullable=False),
        sa.Column("mtu", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_networks_admin_state_up"), "networks", ["admin_state_up", "id"], unique=False
    )
    op.create_index(op.f("ix_networks_mtu"), "networks", ["mtu", "id"], unique=False)
    op.create_index(op.f("ix_networks_name"), "networks", ["name", "id"], unique=False)
    op.create_index(op.f("ix_networks_project_id"), "networks", ["project_id", "id"], unique=False)
    op.create_index(
        op.f("ix_networks_router_external"), "networks", ["router_external", "id"], unique=False
    )
    op.create_index(op.f("ix_networks_shared"), "networks", ["shared", "id"], unique=False)
    op.create_index(op.f("ix_networks_status"), "networks", ["status", "id"], unique=False)
    op.create_table(
        "revisions",
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resource", name=op.f("pk_revisions")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_table(
        "endpoint_groups_endpoints",
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["endpoint_groups.id"],
            name=op.f("fk_endpoint_groups_endpoints_parent_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parent_id", "position", name=op.f("pk_endpoint_groups_endpoints")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_endpoint_groups_endpoints_value"),
        "endpoint_groups_endpoints",
        ["value"],
        unique=False,
    )
    op.create_table(
        "ports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.Column("mac_address", sa.String(length=17), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=False),
        sa.Column("device_owner", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"], name=op.f("fk_ports_network_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ports")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_ports_admin_state_up"), "ports", ["admin_state_up", "id"], unique=False
    )
    op.create_index(op.f("ix_ports_device_id"), "ports", ["device_id", "id"], unique=False)
    op.create_index(op.f("ix_ports_device_owner"), "ports", ["device_owner", "id"], unique=False)
    op.create_index(op.f("ix_ports_mac_address"), "ports", ["mac_address", "id"], unique=False)
    op.create_index(op.f("ix_ports_name"), "ports", ["name", "id"], unique=False)
    op.create_index(op.f("ix_ports_network_id"), "ports", ["network_id", "id"], unique=False)
    op.create_index(op.f("ix_ports_project_id"), "ports", ["project_id", "id"], unique=False)
    op.create_index(op.f("ix_ports_status"), "ports", ["status", "id"], unique=False)
    op.create_table(
        "routers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gw_network_id", sa.String(length=36), nullable=True),
        sa.Column("enable_snat", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gw_network_id"], ["networks.id"], name=op.f("fk_routers_gw_network_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routers")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_routers_admin_state_up"), "routers", ["admin_state_up", "id"], unique=False
    )
    op.create_index(
        op.f("ix_routers_gw_network_id"), "routers", ["gw_network_id", "id"], unique=False
    )
    op.create_index(op.f("ix_routers_name"), "routers", ["name", "id"], unique=False)
    op.create_index(op.f("ix_routers_project_id"), "routers", ["project_id", "id"], unique=False)
    op.create_index(op.f("ix_routers_status"), "routers", ["status", "id"], unique=False)
    op.create_table(
        "subnets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("gateway_ip", sa.String(length=64), nullable=True),
        sa.Column("enable_dhcp", sa.Boolean(), nullable=False),
        sa.Column("ipv6_ra_mode", sa.String(length=64), nullable=True),
        sa.Column("ipv6_address_mode", sa.String(length=64), nullable=True),
        sa.Column("subnetpool_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_subnets_network_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subnets")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(op.f("ix_subnets_cidr"), "subnets", ["cidr", "id"], unique=False)
    op.create_index(op.f("ix_subnets_enable_dhcp"), "subnets", ["enable_dhcp", "id"], unique=False)
    op.create_index(op.f("ix_subnets_gateway_ip"), "subnets", ["gateway_ip", "id"], unique=False)
    op.create_index(op.f("ix_subnets_ip_version"), "subnets", ["ip_version", "id"], unique=False)
    op.create_index(
        op.f("ix_subnets_ipv6_address_mode"), "subnets", ["ipv6_address_mode", "id"], unique=False
    )
    op.create_index(
        op.f("ix_subnets_ipv6_ra_mode"), "subnets", ["ipv6_ra_mode", "id"], unique=False
    )
    op.create_index(op.f("ix_subnets_name"), "subnets", ["name", "id"], unique=False)
    op.create_index(op.f("ix_subnets_network_id"), "subnets", ["network_id", "id"], unique=False)
    op.create_index(op.f("ix_subnets_project_id"), "subnets", ["project_id", "id"], unique=False)
    op.create_index(
        op.f("ix_subnets_subnetpool_id"), "subnets", ["subnetpool_id", "id"], unique=False
    )
    op.create_table(
        "ports_fixed_ips",
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subnet_id", sa.String(length=36), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["ports.id"],
            name=op.f("fk_ports_fixed_ips_parent_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subnet_id"], ["subnets.id"], name=op.f("fk_ports_fixed_ips_subnet_id")
        ),
        sa.PrimaryKeyConstraint("parent_id", "position", name=op.f("pk_ports_fixed_ips")),
        sa.UniqueConstraint(
            "subnet_id", "ip_address", name=op.f("uq_ports_fixed_ips_subnet_id_ip_address")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_ports_fixed_ips_subnet_id"),
        "ports_fixed_ips",
        ["subnet_id", "ip_address"],
        unique=False,
    )
    op.create_table(
        "subnets_allocation_pools",
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("start", sa.String(length=64), nullable=True),
        sa.Column("end", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["subnets.id"],
            name=op.f("fk_subnets_allocation_pools_parent_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parent_id", "position", name=op.f("pk_subnets_allocation_pools")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_subnets_allocation_pools_start"),
        "subnets_allocation_pools",
        ["start", "end"],
        unique=False,
    )
    op.create_table(
        "subnets_dns_nameservers",
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["subnets.id"],
            name=op.f("fk_subnets_dns_nameservers_parent_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parent_id", "position", name=op.f("pk_subnets_dns_nameservers")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_subnets_dns_nameservers_value"), "subnets_dns_nameservers", ["value"], unique=False
    )
    op.create_table(
        "subnets_host_routes",
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=True),
        sa.Column("nexthop", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["subnets.id"],
            name=op.f("fk_subnets_host_routes_parent_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parent_id", "position", name=op.f("pk_subnets_host_routes")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_subnets_host_routes_destination"),
        "subnets_host_routes",
        ["destination", "nexthop"],
        unique=False,
    )
    op.create_table(
        "vpnservices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("subnet_id", sa.String(length=36), nullable=True),
        sa.Column("router_id", sa.String(length=36), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("external_v4_ip", sa.String(length=64), nullable=True),
        sa.Column("external_v6_ip", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flavor_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["router_id"], ["routers.id"], name=op.f("fk_vpnservices_router_id")
        ),
        sa.ForeignKeyConstraint(
            ["subnet_id"], ["subnets.id"], name=op.f("fk_vpnservices_subnet_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vpnservices")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(op.f("ix_vpnservices_name"), "vpnservices", ["name", "id"], unique=False)
    op.create_index(
        op.f("ix_vpnservices_project_id"), "vpnservices", ["project_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_vpnservices_router_id"), "vpnservices", ["router_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_vpnservices_subnet_id"), "vpnservices", ["subnet_id", "id"], unique=False
    )
    op.create_table(
        "ipsec_site_connections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("local_id", sa.String(length=255), nullable=False),
        sa.Column("peer_address", sa.String(length=255), nullable=False),
        sa.Column("peer_id", sa.String(length=255), nullable=False),
        sa.Column("local_ep_group_id", sa.String(length=36), nullable=True),
        sa.Column("peer_ep_group_id", sa.String(length=36), nullable=True),
        sa.Column("route_mode", sa.String(length=64), nullable=False),
        sa.Column("mtu", sa.Integer(), nullable=False),
        sa.Column("initiator", sa.String(length=64), nullable=False),
        sa.Column("auth_mode", sa.String(length=64), nullable=False),
        sa.Column("psk", sa.String(length=255), nullable=False),
        sa.Column("dpd_action", sa.String(length=64), nullable=False),
        sa.Column("dpd_interval", sa.Integer(), nullable=False),
        sa.Column("dpd_timeout", sa.Integer(), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("vpnservice_id", sa.String(length=36), nullable=False),
        sa.Column("ikepolicy_id", sa.String(length=36), nullable=False),
        sa.Column("ipsecpolicy_id", sa.String(length=36), nullable=False),
        sa.Column("split_selector", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ikepolicy_id"],
            ["ikepolicies.id"],
            name=op.f("fk_ipsec_site_connections_ikepolicy_id"),
        ),
        sa.ForeignKeyConstraint(
            ["ipsecpolicy_id"],
            ["ipsecpolicies.id"],
            name=op.f("fk_ipsec_site_connections_ipsecpolicy_id"),
        ),
        sa.ForeignKeyConstraint(
            ["local_ep_group_id"],
            ["endpoint_groups.id"],
            name=op.f("fk_ipsec_site_connections_local_ep_group_id"),
        ),
        sa.ForeignKeyConstraint(
            ["peer_ep_group_id"],
            ["endpoint_groups.id"],
            name=op.f("fk_ipsec_site_connections_peer_ep_group_id"),
        ),
        sa.ForeignKeyConstraint(
            ["vpnservice_id"],
            ["vpnservices.id"],
            name=op.f("fk_ipsec_site_connections_vpnservice_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ipsec_site_connections")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_ikepolicy_id"),
        "ipsec_site_connections",
        ["ikepolicy_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_ipsecpolicy_id"),
        "ipsec_site_connections",
        ["ipsecpolicy_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_local_ep_group_id"),
        "ipsec_site_connections",
        ["local_ep_group_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_name"),
        "ipsec_site_connections",
        ["name", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_peer_ep_group_id"),
        "ipsec_site_connections",
        ["peer_ep_group_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_project_id"),
        "ipsec_site_connections",
        ["project_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_vpnservice_id"),
        "ipsec_site_connections",
        ["vpnservice_id", "id"],
        unique=False,
    )
    op.create_table(
        "ipsec_site_connections_peer_cidrs",
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["ipsec_site_connections.id"],
            name=op.f("fk_ipsec_site_connections_peer_cidrs_parent_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "parent_id", "position", name=op.f("pk_ipsec_site_connections_peer_cidrs")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        op.f("ix_ipsec_site_connections_peer_cidrs_value"),
        "ipsec_site_connections_peer_cidrs",
        ["value"],
        unique=False,
    )


def downgrade() -> None:
    # dropping a table drops its indexes (MariaDB refuses to drop first an index
    # that a foreign key needs)
    op.drop_table("ipsec_site_connections_peer_cidrs")
    op.drop_table("ipsec_site_connections")
    op.drop_table("vpnservices")
    op.drop_table("subnets_host_routes")
    op.drop_table("subnets_dns_nameservers")
    op.drop_table("subnets_allocation_pools")
    op.drop_table("ports_fixed_ips")
    op.drop_table("subnets")
    op.drop_table("routers")
    op.drop_table("ports")
    op.drop_table("endpoint_groups_endpoints")
    op.drop_table("revisions")
    op.drop_table("networks")
    op.drop_table("ipsecpolicies")
    op.drop_table("ikepolicies")
    op.drop_table("endpoint_groups")
