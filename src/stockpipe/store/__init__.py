"""PostgreSQL storage: connections with retries, migrations, the embedded server, the upsert."""

from stockpipe.store.bars_read import (
    bar_count,
    first_bar_ts,
    latest_bar_ts,
    latest_bar_ts_by_symbol,
)
from stockpipe.store.db import Database
from stockpipe.store.embedded import EmbeddedServer, start_throwaway_server
from stockpipe.store.errors import DatabaseError, MigrationError, TransientDatabaseError
from stockpipe.store.migrate import migrate
from stockpipe.store.upsert import UpsertResult, upsert_bars, upsert_bars_in

__all__ = [
    "Database",
    "DatabaseError",
    "EmbeddedServer",
    "MigrationError",
    "TransientDatabaseError",
    "UpsertResult",
    "bar_count",
    "first_bar_ts",
    "latest_bar_ts",
    "latest_bar_ts_by_symbol",
    "migrate",
    "start_throwaway_server",
    "upsert_bars",
    "upsert_bars_in",
]
