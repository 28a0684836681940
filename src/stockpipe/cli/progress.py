"""The progress display of a run on a terminal (`ingest`, `actions`): a bar on stderr, the
last result beside it, and the call gate's current notable wait counting down ("INVALID1:
waiting 44 s for the API's per-minute limit"). Log lines print above the bar (stockpipe.logs
writes to the stderr rich redirects while the bar is shown). Piped or in cron there is no bar:
long waits are logged instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from stockpipe.waits import Wait, observing_waits


class _CurrentWait:
    """The wait in progress, if any: set by the gate's thread, read by rich's refresh thread.
    The ingest fetches ahead on a thread of its own, so a wait may begin before the previous
    symbol's result is shown: it has its own column instead of sharing the description."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wait: Wait | None = None
        self._until = 0.0

    def start(self, wait: Wait) -> None:
        with self._lock:
            self._wait, self._until = wait, time.monotonic() + wait.seconds

    def describe(self) -> str:
        with self._lock:
            wait, left = self._wait, self._until - time.monotonic()
        if wait is None or left <= 0.5:
            return ""
        return Wait(left, wait.reason, wait.symbol).describe()


class _WaitColumn(ProgressColumn):
    def __init__(self, current: _CurrentWait) -> None:
        super().__init__()
        self._current = current

    def render(self, task: Task) -> Text:
        return Text(self._current.describe(), style="yellow")


class RunProgress:
    def __init__(self, progress: Progress, task: TaskID, current: _CurrentWait) -> None:
        self._progress = progress
        self._task = task
        self._current = current

    def advance(self, description: str) -> None:
        """One more unit done; `description` says which and how it went."""
        self._progress.update(self._task, advance=1, description=description)

    def waiting(self, wait: Wait) -> None:
        self._current.start(wait)
        self._progress.refresh()


@contextmanager
def run_progress(label: str, total: int | None) -> Iterator[RunProgress]:
    console = Console(stderr=True)
    current = _CurrentWait()
    progress = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        _WaitColumn(current),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    with ExitStack() as stack:
        stack.enter_context(progress)
        shown = RunProgress(progress, progress.add_task("", total=total), current)
        if console.is_terminal:
            stack.enter_context(observing_waits(shown.waiting))
        yield shown
