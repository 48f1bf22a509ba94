"""Private virtualenvs for the programs the tests run beside vpnaas.

Keystone, tempest and an older openstack CLI pin library versions vpnaas'
own environment cannot share, so each lives in its own virtualenv (next to
the checkout, git-ignored), built with pip on first use and reused while its
stamp (Python version and requirements) matches and its import check passes.
A file lock lets several pytest workers ask at once; one builds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VenvSpec", "VenvUnavailable", "clean_env", "ensure", "path_lock", "skip_or_fail"]


class VenvUnavailable(RuntimeError):
    """A virtualenv could not be built (pip's output is in the message)."""


@dataclass(frozen=True)
class VenvSpec:
    """What one virtualenv holds."""

    name: str
    path: Path
    requirements: tuple[str, ...]
    import_check: str

    @property
    def stamp(self) -> str:
        return "\n".join((sys.version.split()[0], *self.requirements)) + "\n"

    @property
    def _digest(self) -> str:
        return hashlib.sha256(str(self.path).encode()).hexdigest()[:16]

    def temp_file(self, suffix: str) -> Path:
        return Path(tempfile.gettempdir()) / f"vpnaas-{self.name}-venv-{self._digest}{suffix}"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the caller's Python, OpenStack, tempest and
    proxy variables (every program here talks to loopback only)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OS_", "PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "TEMPEST_"))
        and not k.lower().endswith("_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def _ready(spec: VenvSpec) -> bool:
    stamp = spec.path / f".vpnaas-{spec.name}-stamp"
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != spec.stamp:
        return False
    probe = subprocess.run(
        [str(spec.path / "bin" / "python"), "-c", spec.import_check],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env(),
    )  # fmt: skip
    return probe.returncode == 0


@contextlib.contextmanager
def path_lock(path: Path) -> Iterator[None]:
    """An exclusive lock named after ``path`` (a file in the temp directory),
    held by one process at a time."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"vpnaas-lock-{digest}").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


def ensure(spec: VenvSpec, *, timeout: float = 1200) -> Path:
    """The virtualenv of ``spec``, built with pip first if missing or stale."""
    with path_lock(spec.path):
        if _ready(spec):
            return spec.path
        log = spec.temp_file("-build.log")
        python = str(spec.path / "bin" / "python")
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(spec.path)],
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *spec.requirements],
        ]  # fmt: skip
        deadline = time.monotonic() + timeout
        with log.open("w", encoding="utf-8") as out:
            for cmd in steps:
                try:
                    done = subprocess.run(
                        cmd, stdout=out, stderr=subprocess.STDOUT, check=False, env=clean_env(),
                        timeout=max(1.0, deadline - time.monotonic()),
                    )  # fmt: skip
                except (OSError, subprocess.TimeoutExpired) as exc:
                    raise VenvUnavailable(f"{' '.join(cmd)}: {exc}") from exc
                if done.returncode != 0:
                    raise VenvUnavailable(
                        f"{' '.join(cmd)} exited {done.returncode}:\n{_tail(log)}"
                    )
        (spec.path / f".vpnaas-{spec.name}-stamp").write_text(spec.stamp, encoding="utf-8")
        if not _ready(spec):
            raise VenvUnavailable(f"{spec.import_check!r} fails in {spec.path}:\n{_tail(log)}")
        log.unlink(missing_ok=True)
        return spec.path


def skip_or_fail(reason: str) -> None:
    """Skip a test whose private program cannot be installed, except in CI,
    where that is a failure (a skipped suite would let a broken main land)."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
