"""Start child processes that a stop always ends, however this process was started.

An ignored signal stays ignored across exec. A parent started with SIGINT ignored (`make test &`,
nohup, some CI runners) hands that to every child, and Dagster, which copies SIGINT's handler
onto SIGTERM in the process that imports it, makes SIGTERM ignored too: a child started after
that shrugs off `terminate()` and outlives its stop. So `spawn` starts every child with SIGINT
and SIGTERM at their defaults, leading a session (and process group) of its own, and `stop` asks
the whole group with SIGTERM, waits a bounded time, then SIGKILLs the group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

# What a child must be able to receive whatever its parent ignores or handles.
DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE_SEC = 30.0
# After SIGKILL only a process stuck in the kernel is left; bound that wait too.
_KILL_WAIT_SEC = 30.0

P = TypeVar("P", bound="subprocess.Popen[Any]")


def _default_signals() -> None:
    # Runs in the child between fork and exec: a handler is reset by exec anyway, an ignored
    # disposition is not.
    for signum in DEFAULT_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)


def spawn(argv: Sequence[str | Path], **popen: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen(argv, **popen)` with SIGINT and SIGTERM at their defaults in the child,
    which leads a session of its own (a terminal's Ctrl-C reaches only the parent, and `stop`
    reaches the child's own children too)."""
    return subprocess.Popen(  # noqa: S603 - callers pass their own commands, no shell
        [str(arg) for arg in argv],
        preexec_fn=_default_signals,  # noqa: PLW1509 - only signal.signal, no locks taken
        start_new_session=True,
        **popen,
    )


def run(
    argv: Sequence[str | Path], *, timeout: float | None, check: bool = False, **popen: Any
) -> subprocess.CompletedProcess[Any]:
    """`subprocess.run(argv, timeout=timeout, **popen)` for a child from `spawn`: on a timeout
    or an interruption it is stopped with its whole group (subprocess.run kills the child only,
    leaving what it started), then the exception goes on."""
    if popen.pop("capture_output", False):
        popen.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with spawn(argv, **popen) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            stop(process, grace=STOP_GRACE_SEC)
            raise
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        done.check_returncode()
    return done


def stop(
    process: P,
    *,
    grace: float = STOP_GRACE_SEC,
    signum: int = signal.SIGTERM,
    name: str | None = None,
) -> P:
    """Stop a child from `spawn` and everything in its process group: `signum` (SIGTERM; SIGINT
    for a Ctrl-C), up to `grace` seconds' wait, then SIGKILL. Members left behind by a leader
    that exited on its own are killed as well. Returns the process, reaped."""
    if process.poll() is None:
        _signal_group(process.pid, signum)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            logger.warning(
                "%s (pid %d) did not stop within %.0fs: killing it",
                name or _program(process),
                process.pid,
                grace,
            )
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=_KILL_WAIT_SEC)
    _signal_group(process.pid, signal.SIGKILL)
    return process


def _program(process: subprocess.Popen[Any]) -> str:
    args = process.args
    first = args[0] if isinstance(args, list | tuple) and args else args
    return Path(str(first)).name


def _signal_group(pgid: int, signum: int) -> None:
    # The group outlives its leader while a member is alive, and its id is not reused meanwhile.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
