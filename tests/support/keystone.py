"""A real Keystone for the tests: its own virtualenv, SQLite, fernet tokens.

Keystone (from PyPI) lives in a virtualenv of its own, ``.venv-keystone`` at
the top of the repository (``VPNAAS_KEYSTONE_VENV`` overrides the place), so
that its pinned oslo/SQLAlchemy versions never meet vpnaas' ``.venv``.
:func:`ensure_venv` builds it on first use and reuses it while it imports and
its stamp matches :data:`KEYSTONE_REQUIREMENTS`; a file lock keeps parallel
sessions (pytest-xdist) from building it twice.

:class:`Keystone` (or the :func:`running_keystone` context manager) runs one
Keystone in a private temporary directory (``keystone.conf``, the SQLite
database, fernet and credential keys, logs). The database is bootstrapped with
``keystone-manage db_sync``, ``fernet_setup``, ``credential_setup`` and
``bootstrap`` (user ``admin`` with role ``admin`` on project ``admin`` and on
the system; roles admin => manager => member => reader and service; region
``RegionOne``; identity endpoints on all three interfaces) once per
virtualenv and copied from there (see :class:`Keystone`). ``gunicorn`` serves
``keystone.server.wsgi.initialize_public_application`` on a free loopback
port, one worker with an in-memory cache. :meth:`Keystone.stop` ends it by the
PID it started (SIGINT to the gunicorn arbiter, then SIGKILL to the process
group it leads).

The harness talks to Keystone over HTTP only (``httpx``): create projects,
users with role assignments, service users, catalog entries; issue
project-scoped, system-scoped, expired and garbage tokens; validate tokens;
and render the ``[keystone_authtoken]`` section a keystone-mode vpnaas needs
(:meth:`Keystone.authtoken_config`).

Only loopback addresses are ever used.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import grp
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import venvs
from tests.support.net import LOOPBACK, free_port

__all__ = [
    "DEFAULT_DOMAIN",
    "KEYSTONE_REQUIREMENTS",
    "REGION",
    "Accounts",
    "Keystone",
    "KeystoneError",
    "KeystoneUnavailable",
    "Project",
    "Token",
    "User",
    "default_venv",
    "ensure_venv",
    "render_ini",
    "running_keystone",
]

REPO = Path(__file__).resolve().parents[2]
REGION = "RegionOne"
DEFAULT_DOMAIN = "default"

#: What the keystone virtualenv holds (the versions this harness was tried with).
KEYSTONE_REQUIREMENTS: tuple[str, ...] = ("keystone==30.0.0", "gunicorn==27.0.1")

#: The WSGI module gunicorn serves. keystone's own ``keystone.wsgi.api`` would
#: do, but Keystone parses ``sys.argv`` with oslo.config and chokes on
#: gunicorn's arguments: the worker clears them first.
_WSGI_SHIM = """\
import sys

sys.argv = sys.argv[:1]

from keystone.server.wsgi import initialize_public_application

application = initialize_public_application()
"""

#: Cheap: importing ``keystone.server`` takes seconds; a venv that imports
#: this far but cannot serve fails :meth:`Keystone.start` with its log.
_IMPORT_CHECK = "import keystone, gunicorn, keystone.version"


#: the keystone virtualenv could not be built (tests skip on this, or fail in CI)
KeystoneUnavailable = venvs.VenvUnavailable


class KeystoneError(RuntimeError):
    """Keystone did not start, or answered a harness request unexpectedly."""


# --------------------------------------------------------------------------- venv


def default_venv() -> Path:
    """Where the keystone virtualenv lives (``$VPNAAS_KEYSTONE_VENV`` or ``.venv-keystone``)."""
    return Path(os.environ.get("VPNAAS_KEYSTONE_VENV") or REPO / ".venv-keystone")


def _spec(venv: Path | None = None) -> venvs.VenvSpec:
    return venvs.VenvSpec("keystone", venv or default_venv(), KEYSTONE_REQUIREMENTS, _IMPORT_CHECK)


def _stamp() -> str:
    return _spec().stamp


def ensure_venv(venv: Path | None = None, *, timeout: float = 1200) -> Path:
    """The keystone virtualenv, built with pip first if missing or stale.

    Raises :class:`KeystoneUnavailable` with pip's output if it cannot be built.
    """
    return venvs.ensure(_spec(venv), timeout=timeout)


_clean_env = venvs.clean_env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    domain_id: str = DEFAULT_DOMAIN


@dataclass(frozen=True)
class User:
    """A Keystone user with a password and a default (home) project."""

    id: str
    name: str
    password: str
    project: Project | None = None
    roles: tuple[str, ...] = ()
    domain_id: str = DEFAULT_DOMAIN


@dataclass(frozen=True)
class Token:
    """A token string and the document Keystone returned with it."""

    id: str
    body: Mapping[str, Any] = field(repr=False)

    @property
    def expires_at(self) -> dt.datetime:
        return _parse_time(self.body["token"]["expires_at"])

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r["name"] for r in self.body["token"].get("roles", ()))

    @property
    def project_id(self) -> str | None:
        project = self.body["token"].get("project")
        return None if project is None else str(project["id"])

    @property
    def catalog(self) -> list[Mapping[str, Any]]:
        return list(self.body["token"].get("catalog", ()))


@dataclass(frozen=True)
class Accounts:
    """The standard cast: two projects with an admin, a member and a reader each,
    and the ``vpnaas`` service user (role ``service`` on project ``service``)."""

    project_a: Project
    project_b: Project
    service_project: Project
    admin: User  # bootstrap admin: admin on project "admin" and on the system
    a_admin: User
    a_member: User
    a_reader: User
    b_admin: User
    b_member: User
    b_reader: User
    service: User


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def render_ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    """INI text of ``{section: {option: value}}`` (values written verbatim)."""
    out: list[str] = []
    for name, options in sections.items():
        out.append(f"[{name}]")
        out.extend(f"{key} = {value}" for key, value in options.items())
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------ server

#: Bump to rebuild existing templates when what they hold changes.
_TEMPLATE_FORMAT = "1"


def _write_keys(repository: Path) -> None:
    """A fresh fernet key repository, as ``keystone-manage fernet_setup`` makes
    one: key ``0`` (staged) and key ``1`` (primary), owner-only."""
    repository.mkdir(mode=0o700, exist_ok=True)
    for index in (0, 1):
        path = repository / str(index)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.urlsafe_b64encode(os.urandom(32)))


def _template(venv: Path) -> Path:
    """The bootstrapped database kept in the venv, built on first use."""
    template = venv / "vpnaas-keystone-template"
    stamp = template / "stamp"
    want = _stamp() + _TEMPLATE_FORMAT + "\n"
    with venvs.path_lock(template):
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == want:
            return template
        shutil.rmtree(template, ignore_errors=True)
        build = Path(tempfile.mkdtemp(prefix="vpnaas-keystone-template-"))
        try:
            # the port is a placeholder: start() re-aims the identity endpoints
            maker = Keystone(venv, workdir=build, port=5000, template=False)
            try:
                maker._write_config()
                maker._bootstrap()
            finally:
                maker.stop()
            template.mkdir(parents=True)
            shutil.copyfile(build / "keystone.db", template / "keystone.db")
            (template / "admin-password").write_text(maker.admin_password, encoding="utf-8")
            stamp.write_text(want, encoding="utf-8")
        finally:
            shutil.rmtree(build, ignore_errors=True)
        return template


class Keystone:
    """One Keystone server in a temporary directory (see the module docstring).

    With ``template`` (the default) the database comes from a copy made once
    per virtualenv (``db_sync`` + ``bootstrap``, kept in
    ``<venv>/vpnaas-keystone-template``): start-up is then just gunicorn, and
    the identity endpoints are pointed at this server's port over the API.
    Fernet and credential keys are always new (written as ``fernet_setup`` and
    ``credential_setup`` write them: keys ``0`` and ``1``). ``template=False``
    runs all four ``keystone-manage`` steps in the work directory instead.
    """

    def __init__(
        self,
        venv: Path | None = None,
        *,
        workdir: Path | None = None,
        port: int | None = None,
        template: bool = True,
        token_expiration: int = 3600,
    ) -> None:
        self.venv = venv or default_venv()
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="vpnaas-keystone-"))
        self.port = port or free_port()
        self.template = template
        self.admin_password = secrets.token_urlsafe(16)
        self.token_expiration = token_expiration
        self.timings: dict[str, float] = {}
        self.version = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(timeout=30.0, trust_env=False)
        self._admin_token: Token | None = None

    # -- addresses ----------------------------------------------------------

    @property
    def url(self) -> str:
        """The unversioned root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def auth_url(self) -> str:
        """The identity v3 root, e.g. ``http://127.0.0.1:PORT/v3``."""
        return f"{self.url}/v3"

    @property
    def conf_file(self) -> Path:
        return self.workdir / "keystone.conf"

    @property
    def log_file(self) -> Path:
        return self.workdir / "keystone.log"

    def log_tail(self, lines: int = 40) -> str:
        """The end of Keystone's and gunicorn's logs, for failure reports."""
        return "\n".join(
            f"--- {p.name}\n{_tail(p, lines)}"
            for p in (self.log_file, self.workdir / "gunicorn.log")
            if p.exists()
        )

    # -- life cycle ---------------------------------------------------------

    def start(self, timeout: float = 60.0) -> Keystone:
        """Bootstrap a fresh Keystone and serve it; returns once ``/v3`` answers."""
        t0 = time.monotonic()
        self._write_config()
        if self.template:
            template = _template(self.venv)
            self.timings["template"] = time.monotonic() - t0
            shutil.copyfile(template / "keystone.db", self.workdir / "keystone.db")
            self.admin_password = (template / "admin-password").read_text(encoding="utf-8")
            _write_keys(self.workdir / "fernet-keys")
            _write_keys(self.workdir / "credential-keys")
        else:
            self._bootstrap()
        t1 = time.monotonic()
        atexit.register(self.stop)  # in case the caller never gets to stop it
        self._serve(timeout)
        if self.template:
            self._point_identity_endpoints()
        t2 = time.monotonic()
        self.timings.update(prepare=t1 - t0, serve=t2 - t1, start=t2 - t0)
        return self

    def stop(self) -> None:
        """End gunicorn (by the PID started here) and remove the work directory."""
        self._http.close()
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # SIGINT: gunicorn's quick shutdown (SIGTERM would wait for idle
            # keep-alive connections, up to the graceful timeout)
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # still there: kill the process group it leads (itself and its worker)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> Keystone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def _write_config(self) -> None:
        d = self.workdir
        (d / "fernet-keys").mkdir(mode=0o700, exist_ok=True)
        (d / "credential-keys").mkdir(mode=0o700, exist_ok=True)
        (d / "ks_wsgi.py").write_text(_WSGI_SHIM, encoding="utf-8")
        conf = {
            "DEFAULT": {"log_file": str(self.log_file), "debug": "false"},
            "database": {"connection": f"sqlite:///{d}/keystone.db"},
            # bcrypt's minimum: each password check costs ~1 ms instead of ~250 ms
            "identity": {"password_hash_rounds": "4"},
            "token": {"provider": "fernet", "expiration": str(self.token_expiration)},
            "fernet_tokens": {"key_repository": str(d / "fernet-keys"), "max_active_keys": "3"},
            "fernet_receipts": {"key_repository": str(d / "fernet-keys")},
            "credential": {"key_repository": str(d / "credential-keys")},
            "cache": {"enabled": "true", "backend": "dogpile.cache.memory"},
        }
        self.conf_file.write_text(render_ini(conf), encoding="utf-8")

    def _manage(self, *args: str) -> subprocess.Popen[bytes]:
        out = (self.workdir / f"manage-{args[0]}.log").open("wb")
        try:
            manage = str(self.venv / "bin" / "keystone-manage")
            return subprocess.Popen(
                [manage, "--config-file", str(self.conf_file), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                env=_clean_env(),
            )
        finally:
            out.close()

    def _wait_all(self, procs: Sequence[subprocess.Popen[bytes]], names: Sequence[str]) -> None:
        failed = []
        for proc, name in zip(procs, names, strict=True):
            if proc.wait(timeout=300) != 0:
                failed.append(
                    f"keystone-manage {name} exited {proc.returncode}:\n"
                    + _tail(self.workdir / f"manage-{name}.log")
                )
        if failed:
            raise KeystoneError("\n".join(failed) + "\n" + self.log_tail())

    def _bootstrap(self) -> None:
        """``db_sync``, ``fernet_setup``, ``credential_setup``, then ``bootstrap``."""
        owner = (
            "--keystone-user",
            pwd.getpwuid(os.getuid()).pw_name,
            "--keystone-group",
            grp.getgrgid(os.getgid()).gr_name,
        )
        # the first three touch separate files: run them side by side
        first = ["db_sync", "fernet_setup", "credential_setup"]
        self._wait_all(
            [
                self._manage("db_sync"),
                self._manage("fernet_setup", *owner),
                self._manage("credential_setup", *owner),
            ],
            first,
        )
        bootstrap = self._manage(
            "bootstrap",
            "--bootstrap-username", "admin",
            "--bootstrap-password", self.admin_password,
            "--bootstrap-project-name", "admin",
            "--bootstrap-role-name", "admin",
            "--bootstrap-service-name", "keystone",
            "--bootstrap-region-id", REGION,
            "--bootstrap-public-url", self.auth_url,
            "--bootstrap-internal-url", self.auth_url,
            "--bootstrap-admin-url", self.auth_url,
        )  # fmt: skip
        self._wait_all([bootstrap], ["bootstrap"])

    def _point_identity_endpoints(self) -> None:
        """Aim the template's identity endpoints at this server."""
        services = self.request("GET", "/services", params={"type": "identity"}, expect=200)
        for service in services.json()["services"]:
            params = {"service_id": service["id"]}
            endpoints = self.request("GET", "/endpoints", params=params, expect=200).json()
            for ep in endpoints["endpoints"]:
                body = {"endpoint": {"url": self.auth_url}}
                self.request("PATCH", f"/endpoints/{ep['id']}", json=body, expect=200)

    def _serve(self, timeout: float) -> None:
        log = (self.workdir / "gunicorn.log").open("wb")
        cmd = [
            str(self.venv / "bin" / "gunicorn"),
            "--no-control-socket",
            "--pythonpath", str(self.workdir),
            "--bind", f"{LOOPBACK}:{self.port}",
            "--workers", "1",
            "--worker-class", "gthread",
            "--threads", "4",
            "--timeout", "120",
            "--graceful-timeout", "5",
            "ks_wsgi:application",
        ]  # fmt: skip
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                env=_clean_env(OS_KEYSTONE_CONFIG_FILES=str(self.conf_file)),
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise KeystoneError(f"gunicorn exited {self._proc.returncode}\n{self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                resp = self._http.get(self.auth_url)
                if resp.status_code == 200:
                    self.version = str(resp.json()["version"]["id"])
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise KeystoneError(f"keystone not answering after {timeout} s\n{self.log_tail()}")
            time.sleep(0.1)

    # -- HTTP ---------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: int | Sequence[int] | None = None,
    ) -> httpx.Response:
        """One identity API call (``path`` relative to ``/v3``), as admin by default."""
        hdrs = {"X-Auth-Token": token or self.admin_token()}
        hdrs.update(headers or {})
        resp = self._http.request(
            method, f"{self.auth_url}{path}", json=json, params=params, headers=hdrs
        )
        if expect is not None:
            wanted = (expect,) if isinstance(expect, int) else tuple(expect)
            if resp.status_code not in wanted:
                raise KeystoneError(f"{method} {path}: {resp.status_code} {resp.text}")
        return resp

    def issue_token(
        self,
        user: User | None = None,
        *,
        project: Project | None = None,
        system: bool = False,
        unscoped: bool = False,
    ) -> Token:
        """A password-authenticated token for ``user`` (default: the bootstrap admin).

        Scoped to ``project`` if given, else to the system if ``system``, else
        to the user's home project (unscoped if ``unscoped`` or it has none).
        """
        name, password, domain = (
            (user.name, user.password, user.domain_id)
            if user is not None
            else ("admin", self.admin_password, DEFAULT_DOMAIN)
        )
        auth: dict[str, Any] = {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": name, "domain": {"id": domain}, "password": password}
                },
            }
        }
        scope_project = project or (user.project if user is not None else None)
        if user is None and project is None and not system:
            scope_project = Project(id="", name="admin")
        if system:
            auth["scope"] = {"system": {"all": True}}
        elif scope_project is not None and not unscoped:
            auth["scope"] = {"project": _project_ref(scope_project)}
        return self._issue(auth)

    def _issue(self, auth: Mapping[str, Any]) -> Token:
        resp = self._http.post(f"{self.auth_url}/auth/tokens", json={"auth": auth})
        if resp.status_code != 201:
            raise KeystoneError(f"POST /auth/tokens: {resp.status_code} {resp.text}")
        return Token(id=resp.headers["X-Subject-Token"], body=resp.json())

    def token(self, user: User | None = None, project: Project | None = None) -> str:
        """A project-scoped token string (see :meth:`issue_token`)."""
        return self.issue_token(user, project=project).id

    def system_token(self, user: User | None = None) -> str:
        """A system-scoped token string (the bootstrap admin has ``admin`` on the system)."""
        return self.issue_token(user, system=True).id

    def admin_token(self) -> str:
        """The harness' own admin token (project ``admin``), renewed before it expires."""
        tok = self._admin_token
        if tok is None or tok.expires_at - dt.datetime.now(dt.UTC) < dt.timedelta(seconds=60):
            tok = self._admin_token = self.issue_token()
        return tok.id

    def validate_token(self, subject: str, *, token: str | None = None) -> Token | None:
        """``GET /v3/auth/tokens`` for ``subject``: its document, or ``None`` if invalid."""
        resp = self.request(
            "GET", "/auth/tokens", token=token, headers={"X-Subject-Token": subject}
        )
        if resp.status_code in (401, 404):
            return None
        if resp.status_code != 200:
            raise KeystoneError(f"GET /auth/tokens: {resp.status_code} {resp.text}")
        return Token(id=subject, body=resp.json())

    @staticmethod
    def garbage_token() -> str:
        """A token Keystone never issued (what a 401 test sends)."""
        return "gAAAAAB" + secrets.token_urlsafe(120)

    def expired_token(self, user: User, *, lifetime: float = 2.0) -> str:
        """A real, correctly signed project-scoped token of ``user`` that has expired.

        Keystone caps a token's expiry at that of the application credential
        it was issued with: the harness makes one living ``lifetime`` seconds,
        takes a token with it, and waits until the token is past its expiry.
        On a machine so busy that the credential expires before the token is
        issued, it tries again with longer lifetimes.
        """
        if user.project is None:
            raise ValueError("expired_token needs a user with a home project")
        user_token = self.token(user)
        for seconds in (lifetime, lifetime * 4, lifetime * 16):
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
            body = {
                "application_credential": {
                    "name": f"expiring-{uuid.uuid4().hex[:8]}",
                    "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                }
            }
            path = f"/users/{user.id}/application_credentials"
            cred = self.request("POST", path, token=user_token, json=body, expect=201).json()
            auth = {
                "methods": ["application_credential"],
                "application_credential": {
                    "id": cred["application_credential"]["id"],
                    "secret": cred["application_credential"]["secret"],
                },
            }
            resp = self._http.post(
                f"{self.auth_url}/auth/tokens", json={"auth": {"identity": auth}}
            )
            if resp.status_code == 201:
                tok = Token(id=resp.headers["X-Subject-Token"], body=resp.json())
                delay = (tok.expires_at - dt.datetime.now(dt.UTC)).total_seconds() + 0.5
                time.sleep(max(0.0, delay))
                return tok.id
            if resp.status_code != 401:
                raise KeystoneError(f"POST /auth/tokens: {resp.status_code} {resp.text}")
        raise KeystoneError("could not get a token before its application credential expired")

    # -- identity resources -------------------------------------------------

    def create_project(self, name: str, *, domain_id: str = DEFAULT_DOMAIN) -> Project:
        body = {"project": {"name": name, "domain_id": domain_id, "enabled": True}}
        got = self.request("POST", "/projects", json=body, expect=201).json()["project"]
        return Project(id=got["id"], name=got["name"], domain_id=got["domain_id"])

    def find_project(self, name: str, *, domain_id: str = DEFAULT_DOMAIN) -> Project | None:
        params = {"name": name, "domain_id": domain_id}
        got = self.request("GET", "/projects", params=params, expect=200).json()["projects"]
        return Project(id=got[0]["id"], name=name, domain_id=domain_id) if got else None

    def role_id(self, name: str) -> str:
        roles = self.request("GET", "/roles", params={"name": name}, expect=200).json()["roles"]
        if not roles:
            raise KeystoneError(f"no role {name!r}")
        return str(roles[0]["id"])

    def implied_roles(self) -> dict[str, set[str]]:
        """``{prior role: {roles it implies directly}}`` (``GET /v3/role_inferences``)."""
        out: dict[str, set[str]] = {}
        for rule in self.request("GET", "/role_inferences", expect=200).json()["role_inferences"]:
            out.setdefault(rule["prior_role"]["name"], set()).update(
                r["name"] for r in rule["implies"]
            )
        return out

    def create_user(
        self,
        name: str,
        project: Project | None = None,
        roles: Sequence[str] = (),
        *,
        password: str | None = None,
        domain_id: str = DEFAULT_DOMAIN,
    ) -> User:
        """A user with ``roles`` on ``project`` (also its home project)."""
        password = password or secrets.token_urlsafe(16)
        body: dict[str, Any] = {
            "user": {"name": name, "password": password, "domain_id": domain_id, "enabled": True}
        }
        if project is not None:
            body["user"]["default_project_id"] = project.id
        got = self.request("POST", "/users", json=body, expect=201).json()["user"]
        user = User(
            id=got["id"],
            name=name,
            password=password,
            project=project,
            roles=tuple(roles),
            domain_id=domain_id,
        )
        for role in roles:
            if project is None:
                raise ValueError("roles need a project")
            self.assign_role(user, project, role)
        return user

    def assign_role(self, user: User, project: Project, role: str) -> None:
        path = f"/projects/{project.id}/users/{user.id}/roles/{self.role_id(role)}"
        self.request("PUT", path, expect=204)

    def assign_system_role(self, user: User, role: str) -> None:
        self.request("PUT", f"/system/users/{user.id}/roles/{self.role_id(role)}", expect=204)

    def accounts(self) -> Accounts:
        """Create the standard :class:`Accounts` (call once per Keystone)."""
        a = self.create_project("project-a")
        b = self.create_project("project-b")
        service = self.find_project("service") or self.create_project("service")
        admin_project = self.find_project("admin")
        users = self.request("GET", "/users", params={"name": "admin"}, expect=200).json()["users"]
        return Accounts(
            project_a=a,
            project_b=b,
            service_project=service,
            admin=User(
                id=users[0]["id"],
                name="admin",
                password=self.admin_password,
                project=admin_project,
                roles=("admin",),
            ),
            a_admin=self.create_user("a-admin", a, ["admin"]),
            a_member=self.create_user("a-member", a, ["member"]),
            a_reader=self.create_user("a-reader", a, ["reader"]),
            b_admin=self.create_user("b-admin", b, ["admin"]),
            b_member=self.create_user("b-member", b, ["member"]),
            b_reader=self.create_user("b-reader", b, ["reader"]),
            service=self.create_user("vpnaas", service, ["service"]),
        )

    # -- catalog ------------------------------------------------------------

    def register_service(
        self,
        url: str,
        *,
        service_type: str = "network",
        name: str = "neutron",
        interfaces: Sequence[str] = ("public", "internal", "admin"),
    ) -> str:
        """Put ``url`` in the catalog as ``service_type`` in RegionOne; returns the service id.

        Registering the same type and name again replaces its endpoints (a
        restarted vpnaas on another port). For ``network`` give the unversioned
        root (``http://127.0.0.1:PORT/``): clients append ``/v2.0`` themselves.
        """
        services = self.request(
            "GET", "/services", params={"type": service_type}, expect=200
        ).json()
        found = [s for s in services["services"] if s.get("name") == name]
        if found:
            service_id = str(found[0]["id"])
            params = {"service_id": service_id}
            endpoints = self.request("GET", "/endpoints", params=params, expect=200).json()
            for ep in endpoints["endpoints"]:
                self.request("DELETE", f"/endpoints/{ep['id']}", expect=204)
        else:
            body = {"service": {"type": service_type, "name": name, "enabled": True}}
            service_id = str(
                self.request("POST", "/services", json=body, expect=201).json()["service"]["id"]
            )
        for interface in interfaces:
            body = {
                "endpoint": {
                    "service_id": service_id,
                    "interface": interface,
                    "url": url,
                    "region_id": REGION,
                    "enabled": True,
                }
            }
            self.request("POST", "/endpoints", json=body, expect=201)
        return service_id

    # -- vpnaas configuration -----------------------------------------------

    def authtoken_options(self, service_user: User) -> dict[str, str]:
        """The ``[keystone_authtoken]`` options for a vpnaas validating tokens
        as ``service_user`` (which needs role ``service``: Keystone's
        ``identity:validate_token`` allows it). No ``memcached_servers``: the
        middleware caches tokens in process."""
        if service_user.project is None:
            raise ValueError("the service user needs a project")
        return {
            "www_authenticate_uri": self.url,
            "auth_url": self.url,
            "auth_type": "password",
            "username": service_user.name,
            "password": service_user.password,
            "user_domain_id": service_user.domain_id,
            "project_name": service_user.project.name,
            "project_domain_id": service_user.project.domain_id,
            "region_name": REGION,
            "interface": "public",
            "service_type": "network",
            "http_connect_timeout": "10",
        }

    def authtoken_config(self, service_user: User) -> str:
        """The ``[keystone_authtoken]`` INI section (see :meth:`authtoken_options`)."""
        return render_ini({"keystone_authtoken": self.authtoken_options(service_user)})


def _project_ref(project: Project) -> dict[str, Any]:
    if project.id:
        return {"id": project.id}
    return {"name": project.name, "domain": {"id": project.domain_id}}


@contextlib.contextmanager
def running_keystone(venv: Path | None = None, **kwargs: Any) -> Iterator[Keystone]:
    """Build the venv if needed, start a Keystone, stop it on the way out."""
    keystone = Keystone(ensure_venv(venv), **kwargs)
    try:
        yield keystone.start()
    finally:
        keystone.stop()
