"""How ``vpnaas serve`` stops: signals before granian handles them, the
children it started, and the marker that ends waiting long polls
(docs/decisions.md, "Stopping the server")."""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
from collections.abc import Iterable
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

__all__ = ["CHILD_GRACE", "StopMarker", "exit_on_signals", "ignore_signals", "stop_children"]

#: how long a child granian server may take to stop before it is killed
CHILD_GRACE = 15.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_on_signals() -> None:
    """SIGTERM and SIGINT end this process through ``finally`` blocks (until
    granian installs its own handlers, and again once it is done)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _exit)


def ignore_signals() -> None:
    """Let a second signal not cut the clean-up short."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def stop_children(children: Iterable[BaseProcess], grace: float = CHILD_GRACE) -> None:
    """SIGTERM every child still running, wait ``grace`` seconds for all of
    them, then SIGKILL the rest."""
    running = [child for child in children if child.is_alive()]
    for child in running:
        child.terminate()
    for child in running:
        child.join(grace)
        if child.is_alive():
            child.kill()
            child.join()


class StopMarker:
    """A file that appears when the server stops: the agent listener's
    workers look for it while agents wait, and answer them at once."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vpnaas-serve-"))
        self.path = self.folder / "stopping"

    def set(self) -> None:
        with contextlib.suppress(OSError):
            self.path.touch()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
