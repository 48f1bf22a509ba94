"""``GET /healthcheck``: oslo.middleware's healthcheck with a database backend.

Load balancers and operators probe OpenStack services at ``/healthcheck``;
oslo.middleware answers it from its backends (``[healthcheck] backends``).
vpnaas adds ``vpnaas_database`` (on by default): healthy while one trivial
statement runs on the database, 503 otherwise. The ``[healthcheck]`` options
(``detailed``, ``allowed_source_ranges``, the file backends) work as in any
OpenStack service.
"""

from __future__ import annotations

import logging
from typing import Any

from oslo_middleware import healthcheck
from oslo_middleware.healthcheck import opts, pluginbase

from vpnaas import errors
from vpnaas.db.engine import Database

__all__ = ["DatabaseCheck", "healthcheck_app"]

LOG = logging.getLogger(__name__)

BACKEND = "vpnaas_database"


class DatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """Healthy while the database answers ``SELECT 1``."""

    db: Database | None = None

    def healthcheck(self, server_port: int) -> Any:
        if self.db is None:
            return pluginbase.HealthcheckResult(available=False, reason="no database attached")
        try:
            self.db.peek("SELECT 1", ())
        except errors.ApiError:  # every database failure is translated to one
            LOG.warning("healthcheck: the database does not answer")
            return pluginbase.HealthcheckResult(available=False, reason="database unavailable")
        return pluginbase.HealthcheckResult(available=True, reason="OK")


def healthcheck_app(conf: Any, db: Database) -> Any:
    """The healthcheck WSGI application, its database backend bound to ``db``."""
    conf.register_opts(opts.HEALTHCHECK_OPTS, group="healthcheck")
    conf.set_default("backends", [BACKEND], group="healthcheck")
    app = healthcheck.Healthcheck(None, conf)
    for ext in app._backends:  # stevedore built the plugins; ours needs the engine
        if isinstance(ext.obj, DatabaseCheck):
            ext.obj.db = db
    return app
