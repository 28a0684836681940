"""Long-running processes for the end-to-end tier: each in its own process group (so the run
workers a code server spawns go down with it), output kept in a log file for the failure
message and the CI artifacts."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from stockpipe import processes

T = TypeVar("T")


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def exited(self) -> bool:
        return self.popen.poll() is not None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to the whole group, SIGKILL if it is still there after `grace` seconds."""
        processes.stop(self.popen, grace=grace, name=self.name)


def start_process(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_dir: Path
) -> ManagedProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = processes.spawn(
            argv, env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return ManagedProcess(name, popen, log_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    watch: Sequence[ManagedProcess] = (),
    interval: float = 0.5,
) -> T:
    """Poll `check` until it returns a truthy value; fail early if a watched process dies."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        for process in watch:
            if process.exited():
                raise RuntimeError(
                    f"{process.name} exited with {process.popen.returncode} while waiting for "
                    f"{what}; last output:\n{process.log_tail()}"
                )
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name} ---\n{p.log_tail()}" for p in watch)
            raise TimeoutError(f"{what}: not within {timeout:.0f}s\n{tails}")
        time.sleep(interval)
