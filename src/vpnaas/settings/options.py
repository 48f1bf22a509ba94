"""The server's oslo.config options, one list per section of the file.

:func:`vpnaas.settings.new_conf` registers them and
:func:`vpnaas.settings.load` reads them into :class:`vpnaas.settings.Settings`;
``vpnaas --help`` and oslo-config-generator show their help texts.
"""

from __future__ import annotations

from oslo_config import cfg

__all__ = [
    "AGENT_API_OPTS",
    "CONSOLE_OPTS",
    "DATABASE_OPTS",
    "DEFAULT_DATABASE",
    "DEFAULT_OPTS",
    "METRICS_OPTS",
    "TOPOLOGY_OPTS",
    "VPNAAS_OPTS",
]

DEFAULT_DATABASE = "sqlite:///vpnaas.sqlite"

#: ``[DEFAULT]``
DEFAULT_OPTS = [
    cfg.StrOpt(
        "auth_strategy",
        default="noauth",
        choices=["noauth", "keystone"],
        help="noauth trusts X-Project-Id/X-User-Id/X-Roles headers; keystone "
        "validates tokens with keystonemiddleware.",
    ),
    cfg.StrOpt(
        "noauth_project_id",
        default="admin",
        help="noauth only: a request without any identity header acts in this "
        "project with the admin role (so clients that cannot send headers, like "
        "the openstack CLI, work). Empty: such a request is an admin without a "
        "project, as one that sends an empty X-Project-Id.",
    ),
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address to listen on."),
    cfg.PortOpt("bind_port", default=9696, help="Port to listen on."),
    cfg.IntOpt("api_workers", default=1, min=1, help="Number of API worker processes."),
    cfg.IntOpt(
        "api_threads",
        min=1,
        help="Threads per worker that run requests. Default: 1 on SQLite, whose "
        "requests never wait on a socket (more threads only take turns at the "
        "GIL); max_pool_size on PostgreSQL or MySQL, to overlap round-trips.",
    ),
    cfg.IntOpt(
        "pagination_max_limit", default=-1, help="Largest page a list returns; -1 for no cap."
    ),
    cfg.BoolOpt(
        "filter_validation",
        default=True,
        help="Refuse unknown or non-filterable query parameters with 400.",
    ),
    cfg.StrOpt(
        "network_link_prefix",
        help="Scheme, host and path prefix of paging links, when behind a proxy.",
    ),
    cfg.BoolOpt(
        "legacy_crypto_algorithms",
        default=False,
        help="Accept sha1 and 3des and default auth_algorithm to sha1 (the base "
        "API definition); by default vpn-no-sha1-3des holds.",
    ),
    cfg.IntOpt(
        "max_request_body_size", default=114688, help="Largest request body accepted, in bytes."
    ),
    cfg.BoolOpt(
        "response_cache",
        default=True,
        help="Keep encoded list and show answers per worker until a write to a "
        "resource they were built from (off: every read is built afresh).",
    ),
    cfg.IntOpt(
        "max_url_length",
        default=16384,
        min=256,
        help="Longest request URL (path and query string) accepted; longer is a 414.",
    ),
    cfg.IntOpt(
        "max_header_line",
        default=16384,
        min=256,
        help="Longest request header line (name and value) accepted; longer is a 431.",
    ),
    cfg.FloatOpt(
        "client_body_timeout",
        default=30.0,
        min=0.1,
        help="Seconds a client has to send the whole request body once its headers "
        "are in; then the request is answered 408.",
    ),
    cfg.BoolOpt(
        "access_log",
        default=True,
        help="Log one line per request (logger vpnaas.access; the agent API's "
        "under vpnaas.access.agent): method, path and query string (secrets "
        "masked), status, length, seconds, request id, project.",
    ),
    cfg.FloatOpt(
        "client_header_timeout",
        default=30.0,
        min=0.1,
        help="Seconds a client has to send the request headers; then the connection is closed.",
    ),
]

#: ``[database]``
DATABASE_OPTS = [
    cfg.StrOpt(
        "connection",
        default=DEFAULT_DATABASE,
        secret=True,
        help="SQLAlchemy URL: sqlite:///path, postgresql+psycopg://..., mysql+pymysql://...",
    ),
    cfg.IntOpt("max_pool_size", default=5, help="Connections kept open per worker."),
    cfg.IntOpt("max_overflow", default=10, help="Extra connections beyond the pool."),
    cfg.IntOpt("pool_timeout", default=30, help="Seconds to wait for a free connection."),
    cfg.IntOpt(
        "connection_recycle_time",
        default=3600,
        help="Seconds after which a connection is replaced.",
    ),
]

#: ``[vpnaas]``
VPNAAS_OPTS = [
    cfg.StrOpt(
        "driver",
        default="null",
        choices=["null", "strongswan"],
        help="Data plane: null reports every service and connection DOWN; strongswan "
        "leaves them pending until a vpnaas agent reports what charon really has.",
    ),
    cfg.BoolOpt(
        "allow_aggressive_mode",
        default=False,
        help="With the strongswan driver, accept IKE policies in aggressive mode "
        "(the identity travels unprotected and the psk can be attacked offline).",
    ),
    cfg.BoolOpt(
        "null_driver_settles",
        default=True,
        help="The null driver moves new and updated services and connections to DOWN; "
        "false leaves them pending, as a reference server without agents does.",
    ),
    cfg.ListOpt(
        "secret_key",
        default=[],
        secret=True,
        help="Fernet keys (comma-separated, `vpnaas db generate-key` makes one) that "
        "encrypt secret attributes (the psk) at rest: the first encrypts, every one "
        "decrypts. Unset: secrets are stored in clear and the server warns at start.",
    ),
    cfg.StrOpt(
        "secret_key_file",
        help="A file with the keys of secret_key, one a line (instead of secret_key).",
    ),
    cfg.StrOpt(
        "peer_hosts_file",
        help="Resolve peer_address host names only from this hosts(5) file "
        "instead of the system resolver.",
    ),
]

#: ``[console]``
CONSOLE_OPTS = [
    cfg.BoolOpt("enabled", default=True, help="Serve the web console under /ui/."),
    cfg.BoolOpt(
        "secure_cookies",
        default=False,
        help="Mark the session cookie Secure (set it when the console is served over HTTPS).",
    ),
    cfg.IntOpt(
        "session_lifetime",
        default=28800,
        min=60,
        help="Seconds a noauth console login lasts (a keystone login lasts as long as its token).",
    ),
    cfg.StrOpt(
        "auth_url",
        help="Keystone URL the console logs users in with (keystone mode); default: "
        "[keystone_authtoken] www_authenticate_uri.",
    ),
    cfg.StrOpt("user_domain_id", default="default", help="Domain of console users."),
    cfg.StrOpt("project_domain_id", default="default", help="Domain of their projects."),
]

#: ``[agent_api]``
AGENT_API_OPTS = [
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address the agent API listens on."),
    cfg.PortOpt("bind_port", default=9697, help="Port of the agent API."),
    cfg.IntOpt(
        "threads",
        default=128,
        min=2,
        help="Request threads of the agent API; each waiting agent holds one.",
    ),
    cfg.IntOpt(
        "agent_down_time",
        default=30,
        min=2,
        help="Seconds without a report after which an agent is dead and its "
        "connections DOWN (three report intervals).",
    ),
]

#: ``[metrics]``
METRICS_OPTS = [
    cfg.BoolOpt(
        "enabled",
        default=False,
        help="Serve Prometheus metrics on a listener of their own (vpnaas serve).",
    ),
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address of the metrics listener."),
    cfg.PortOpt("bind_port", default=9698, help="Port of the metrics listener."),
]

#: ``[topology]``
TOPOLOGY_OPTS = [
    cfg.BoolOpt(
        "seed_external_network",
        default=True,
        help="Create an external network at start-up if it does not exist.",
    ),
    cfg.StrOpt(
        "external_network_id", help="Id of the seeded external network (default: generated once)."
    ),
    cfg.StrOpt("external_network_name", default="public"),
    cfg.StrOpt(
        "external_subnet_cidr",
        default="172.24.4.0/24",
        help="IPv4 subnet of the seeded external network.",
    ),
    cfg.StrOpt(
        "external_subnet_ipv6_cidr", help="Optional IPv6 subnet of the seeded external network."
    ),
    cfg.StrOpt(
        "admin_project_id", default="admin", help="Project that owns the seeded external network."
    ),
    cfg.IntOpt("network_max_mtu", default=1500, help="Largest network MTU."),
]
