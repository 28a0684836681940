"""What the ingest step needs, in one object: settings, database, a gated client, a clock."""

from __future__ import annotations

import uuid

from stockpipe.alphavantage import AlphaVantageClient
from stockpipe.clock import Clock, SystemClock
from stockpipe.closing import ClosesOnExit
from stockpipe.quota import PostgresCallGate
from stockpipe.quota.concurrency import max_in_flight
from stockpipe.settings import OutputSizePolicy, Settings
from stockpipe.store import Database


class IngestContext(ClosesOnExit):
    """What the ingest step needs: settings, database, a gated client, a clock.

    `IngestContext.from_settings(settings)` opens (and on close, closes) the database and the
    client; the constructor takes an open Database (tests, Dagster resources) and only closes
    the client it makes.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Clock | None = None,
        output_size: OutputSizePolicy | None = None,
        owns_db: bool = False,
        run_id: str | None = None,
    ) -> None:
        self.settings = settings
        # Labels what this context's loads change (stock_data_changes): a Dagster run passes
        # its own id, anything else gets a fresh one.
        self.run_id = run_id or uuid.uuid4().hex
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.output_size: OutputSizePolicy = output_size or settings.api_output_size
        self.gate = PostgresCallGate(db, settings, clock=self.clock)
        self.in_flight = max_in_flight(settings)
        self.client = AlphaVantageClient.from_settings(
            settings, self.gate, sleep=self.clock.sleep, connections=self.in_flight
        )
        self._owns_db = owns_db

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        output_size: OutputSizePolicy | None = None,
        run_id: str | None = None,
    ) -> IngestContext:
        db = Database.from_settings(settings)
        return cls(settings, db, clock=clock, output_size=output_size, owns_db=True, run_id=run_id)

    def __repr__(self) -> str:
        return f"IngestContext({self.db!r}, {self.gate!r}, output_size={self.output_size})"

    def close(self) -> None:
        self.gate.close()
        self.client.close()
        if self._owns_db:
            self.db.close()
