"""Run a few long-lived child processes as one unit: if one dies, stop the others.

`stockpipe up` uses it for the Dagster code server, daemon and webserver. Children get their
own session (`stockpipe.processes.spawn`), so a Ctrl-C in the terminal reaches only the
supervisor, which then stops them in reverse start order (the webserver before the code server
it talks to), each with its group, SIGKILL after a timeout.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

from stockpipe import processes

logger = logging.getLogger(__name__)

STOP_TIMEOUT_SEC = 30.0
_POLL_SEC = 0.5


@dataclass
class Child:
    name: str
    command: Sequence[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class ChildDied(RuntimeError):
    """A supervised process exited on its own."""


class Supervisor:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.children: list[Child] = []
        self.stopping = threading.Event()

    def start(self, name: str, command: Sequence[str]) -> Child:
        child = Child(name, list(command))
        logger.info("starting %s", name)
        child.process = processes.spawn(child.command, env=self.env)
        self.children.append(child)
        return child

    def install_signal_handlers(self) -> None:
        """SIGINT / SIGTERM ask for a clean stop instead of raising mid-way."""

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            logger.info("%s received: stopping", signal.Signals(signum).name)
            self.stopping.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

    def wait_until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> bool:
        """Poll `condition` until true; False if a stop was asked. Raises if a child dies or
        the timeout passes."""
        waited = 0.0
        while not self.stopping.is_set():
            self.check_children()
            if condition():
                return True
            if waited >= timeout:
                raise TimeoutError(f"{what} not ready after {timeout:.0f}s")
            self.stopping.wait(_POLL_SEC)
            waited += _POLL_SEC
        return False

    def supervise(self, on_tick: Callable[[], None] | None = None) -> None:
        """Block until a stop is asked (returns) or a child exits (raises ChildDied)."""
        while not self.stopping.is_set():
            self.check_children()
            if on_tick is not None:
                on_tick()
            self.stopping.wait(_POLL_SEC)

    def check_children(self) -> None:
        for child in self.children:
            assert child.process is not None
            code = child.process.poll()
            if code is not None:
                raise ChildDied(f"{child.name} exited with code {code}")

    def stop_all(self) -> None:
        """Stop every child, last started first; SIGKILL after a timeout. A child that exited
        on its own still has its group cleared (a code server's run worker outlives it)."""
        for child in reversed(self.children):
            process = child.process
            if process is None:
                continue
            if process.poll() is None:
                logger.info("stopping %s (pid %d)", child.name, process.pid)
            processes.stop(process, grace=STOP_TIMEOUT_SEC, name=child.name)
