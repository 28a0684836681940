"""A SQLAlchemy plugin that tests a pooled connection before handing it out (`pool_pre_ping`).

Named in deploy/dagster.yaml (`params: {plugin: stockpipe_pre_ping}`), the instance file of
every Dagster process, because Dagster's instance config has no pool settings of its own.
It matters to the webserver: it keeps one pooled connection per instance storage (runs, event
log, schedules) and never tests it, so after a PostgreSQL restart the next launches fail
("server closed the connection unexpectedly") and one can leave a run NOT_STARTED for good.
With the ping, a connection the server has closed is replaced before use. The other processes
open a fresh connection per use (NullPool), which SQLAlchemy never pings: no cost there.

Registered as the `sqlalchemy.plugins` entry point `stockpipe_pre_ping` (pyproject.toml);
SQLAlchemy takes the name out of the URL before it connects. Imports SQLAlchemy only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, CreateEnginePlugin
from sqlalchemy.pool import Pool


class PrePingPlugin(CreateEnginePlugin):
    """`pool_pre_ping=True` for every engine whose URL names this plugin."""

    def update_url(self, url: URL) -> URL:
        # Nothing of ours is left in the URL (SQLAlchemy has removed `plugin` already).
        return url

    def handle_pool_kwargs(self, pool_cls: type[Pool], pool_args: dict[str, Any]) -> None:
        pool_args["pre_ping"] = True
