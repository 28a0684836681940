"""stockpipe.logs: the library's records reach a run's log, redacted, only inside the block."""

from __future__ import annotations

import logging
import threading

from stockpipe.logs import LIBRARY_LOGGER, library_logs_to
from stockpipe.settings import Settings

KEY = "secretkey-4f9a1c"


def test_records_of_every_thread_reach_the_sink_redacted_with_their_traceback():
    settings = Settings.load(API_KEY=KEY, STOCKPIPE_LOG_LEVEL="INFO")
    lines: list[tuple[int, str]] = []
    logger = logging.getLogger("stockpipe.ingest")

    def fail_on_a_thread() -> None:
        try:
            raise RuntimeError(f"GET https://x/query?apikey={KEY}")
        except RuntimeError:
            logger.exception("fetch failed for key %s", KEY)

    with library_logs_to(lambda level, line: lines.append((level, line)), settings):
        worker = threading.Thread(target=fail_on_a_thread)
        worker.start()
        worker.join()
        logger.debug("below the level")

    [(level, line)] = lines
    assert level == logging.ERROR
    assert line.startswith("stockpipe.ingest: fetch failed for key ***")
    assert "RuntimeError: GET https://x/query?apikey=***" in line
    assert KEY not in line


def test_the_sink_is_detached_and_the_level_restored_after_the_block():
    settings = Settings.load(STOCKPIPE_LOG_LEVEL="DEBUG")
    library = logging.getLogger(LIBRARY_LOGGER)
    level_before, handlers_before = library.level, list(library.handlers)
    lines: list[str] = []

    with library_logs_to(lambda _level, line: lines.append(line), settings):
        assert library.level == logging.DEBUG
        logging.getLogger("stockpipe.store").debug("inside")
    logging.getLogger("stockpipe.store").warning("outside")

    assert lines == ["stockpipe.store: inside"]
    assert (library.level, library.handlers) == (level_before, handlers_before)


def test_a_database_password_that_is_a_word_is_masked_only_where_it_is_a_credential():
    # `stockpipe`: the old compose default, also the user's, the database's and the project's
    # name. Masked by value it made every line `***.ingest: ...`.
    settings = Settings.load(
        POSTGRES_HOST="postgres",
        POSTGRES_USER="stockpipe",
        POSTGRES_PASSWORD="stockpipe",
        POSTGRES_DB="stockpipe",
        STOCKPIPE_LOG_LEVEL="INFO",
    )
    lines: list[str] = []

    with library_logs_to(lambda _level, line: lines.append(line), settings):
        logging.getLogger("stockpipe.ingest").info("IBM: loaded")
        logging.getLogger("stockpipe.airflow").info("Airflow home %s", "/opt/stockpipe/airflow")
        logging.getLogger("stockpipe.store").info("DSN %s", settings.postgres_conninfo())
        logging.getLogger("stockpipe.store").info(
            "URL %s", "postgres://stockpipe:stockpipe@postgres:5432/stockpipe"
        )

    assert lines == [
        "stockpipe.ingest: IBM: loaded",
        "stockpipe.airflow: Airflow home /opt/stockpipe/airflow",
        "stockpipe.store: DSN host=postgres port=5432 user=stockpipe password=*** dbname=stockpipe",
        "stockpipe.store: URL postgres://stockpipe:***@postgres:5432/stockpipe",
    ]
