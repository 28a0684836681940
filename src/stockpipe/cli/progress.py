"""The progress display of a run on a terminal (`ingest`, `actions`): a bar on stderr, the
last result beside it, and any notable wait of the call gate ("IBM: waiting 44 s for the API's
per-minute limit"). Log lines print above the bar (stockpipe.logs writes to the stderr rich
redirects while the bar is shown). Piped or in cron there is no bar: waits are logged instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from stockpipe.waits import Wait, observing_waits


class RunProgress:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, description: str) -> None:
        """One more unit done; `description` says which and how it went."""
        self._progress.update(self._task, advance=1, description=description)

    def waiting(self, wait: Wait) -> None:
        self._progress.update(self._task, description=wait.describe())


@contextmanager
def run_progress(label: str, total: int | None) -> Iterator[RunProgress]:
    console = Console(stderr=True)
    progress = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    with ExitStack() as stack:
        stack.enter_context(progress)
        shown = RunProgress(progress, progress.add_task("", total=total))
        if console.is_terminal:
            stack.enter_context(observing_waits(shown.waiting))
        yield shown
