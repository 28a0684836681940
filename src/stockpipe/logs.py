"""Where the library's log lines go: stderr for the CLI, an orchestrator's log for a run.

The library only ever logs to the `stockpipe` logger tree. The CLI sends that to stderr; a
Dagster step or an Airflow task sends it to its own log (so retries, skipped bars, deferrals
and the budget show up in the run's event log in the UI), at STOCKPIPE_LOG_LEVEL either way,
and every line passes through `redact` first: the API key and passwords never reach a log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from stockpipe.redact import RedactingFilter, redact
from stockpipe.settings import Settings

LIBRARY_LOGGER = "stockpipe"

# One line for a record: its level and the emitting module (e.g. stockpipe.ingest), then the
# message and, for an exception, its traceback.
LineSink = Callable[[int, str], None]


def configure_logging(settings: Settings) -> None:
    """The CLI's logging: one redacting stderr handler on the root, at STOCKPIPE_LOG_LEVEL."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(settings.secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of the record: while a progress bar is
    shown, rich redirects stderr so each line prints above the bar, not glued into it
    (`0:00:022026-12-05 19:30:21,980 INFO ...`)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # under the handler's lock (Handler.handle)
        super().emit(record)


class _SinkHandler(logging.Handler):
    """Hands each formatted, redacted record to a callable (from any thread of the run)."""

    def __init__(self, sink: LineSink, secrets: tuple[str, ...], level: str) -> None:
        super().__init__(level)
        self._sink = sink
        self._secrets = secrets
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # The whole formatted text, traceback included, is redacted: an exception's
            # message can carry a URL with the key in it.
            self._sink(record.levelno, redact(self.format(record), self._secrets))
        except Exception:
            self.handleError(record)


@contextmanager
def library_logs_to(sink: LineSink, settings: Settings) -> Iterator[None]:
    """While the block runs, send the library's records at STOCKPIPE_LOG_LEVEL to `sink`.

    Records of every thread count (the ingest fetches on a background thread). The logger's
    own level is set for the block too, so DEBUG reaches the sink when asked for, and restored
    afterwards.
    """
    logger = logging.getLogger(LIBRARY_LOGGER)
    handler = _SinkHandler(sink, settings.secrets, settings.log_level)
    previous = logger.level
    logger.setLevel(settings.log_level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
