"""The one resource: settings from the environment, turned into the library's ingest context.

Secrets reach the resource only as `EnvVar`s, so the UI (launchpad, resource page, run config)
shows the variable's name and never its value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from stockpipe.ingest import IngestContext
from stockpipe.settings import Settings

# Resource field -> the environment variable that holds the secret.
SECRET_VARIABLES = {
    "api_key": "API_KEY",
    "database_url": "DATABASE_URL",
    "postgres_password": "POSTGRES_PASSWORD",
}


class StockpipeResource(dg.ConfigurableResource["StockpipeResource"]):
    """Secrets as EnvVars; every other knob comes from the environment through `Settings`."""

    api_key: str | None = None
    database_url: str | None = None
    postgres_password: str | None = None

    def load_settings(self) -> Settings:
        overrides = {
            variable: value
            for field, variable in SECRET_VARIABLES.items()
            if (value := getattr(self, field)) is not None
        }
        return Settings.load(**overrides)

    @contextmanager
    def ingest_context(self, run_id: str | None = None) -> Iterator[IngestContext]:
        """Database pool and API client for one run; closed (pool drained) when the run ends.
        `run_id` (the Dagster run's) labels the bar corrections the run writes."""
        with IngestContext.from_settings(self.load_settings(), run_id=run_id) as ctx:
            yield ctx


def stockpipe_resource_from_env() -> StockpipeResource:
    """Bind each secret that is set to its EnvVar; an unset one falls back to Settings' default
    (API_KEY=demo, embedded database), since EnvVar refuses a missing variable."""
    bound = {
        field: dg.EnvVar(variable)
        for field, variable in SECRET_VARIABLES.items()
        if os.environ.get(variable)
    }
    return StockpipeResource(**bound)
