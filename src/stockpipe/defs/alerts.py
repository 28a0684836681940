"""Alert sensors, run by the daemon; on by default when an alert channel is configured.

- `stockpipe_run_alerts` reads every run of this code location's jobs that ended (success or
  failure) since its cursor, in the order they ended, and hands them to stockpipe.alerts: run
  failures, symbol streaks and asset checks, each with its recovery.
- `stockpipe_freshness_alerts` looks at the newest bar of every configured symbol in each
  series of STOCK_SERIES (stockpipe.alerts.freshness says what each series owes).

Neither can change a run's outcome: they only read the event log, after the run ended. A
delivery failure is retried and logged inside the library; a database fault fails the tick
(the daemon logs it and carries on) without moving the cursor, so the runs are seen again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import dagster as dg

from stockpipe.alerts import AlertService, RetryPolicy, channels_from_settings
from stockpipe.defs.alert_runs import finished_run
from stockpipe.ingest.universe import symbols as universe_symbols
from stockpipe.logs import library_logs_to
from stockpipe.settings import Settings
from stockpipe.store import Database

RUN_SENSOR = "stockpipe_run_alerts"
FRESHNESS_SENSOR = "stockpipe_freshness_alerts"
FIRST_RETRY_DELAY_SEC = 1.0
# Dagster gives a sensor evaluation 60 s. No retry starts later than this after the first
# attempt, and the last attempt may take ALERT_TIMEOUT_SEC (at most 30) more; a channel that
# failed is not tried again in the same tick (stockpipe.alerts.service).
TICK_BUDGET_SEC = 50.0
# Staleness moves in hours: the freshness sensor runs every 5 minutes, or every
# ALERT_SENSOR_INTERVAL_SEC if that is longer (README and operations.md say so).
FRESHNESS_MIN_INTERVAL_SEC = 300
_BATCH = 100
_ENDED: tuple[Literal[dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE], ...] = (
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
)


def build_alert_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    """No channel configured: no sensors (nothing to send, nothing to track)."""
    if not channels_from_settings(settings):
        return []
    return [_run_sensor(settings), _freshness_sensor(settings)]


def alert_service(settings: Settings, db: Database) -> AlertService:
    return AlertService(
        db,
        channels_from_settings(settings),
        policy=RetryPolicy(
            retries=settings.alert_retries,
            first_delay_sec=FIRST_RETRY_DELAY_SEC,
            deadline_sec=max(0.0, TICK_BUDGET_SEC - settings.alert_timeout_sec),
        ),
        consecutive_runs=settings.alert_consecutive_runs,
        stale_after_hours=settings.alert_stale_after_hours,
        secrets=settings.secrets,
    )


def _run_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name=RUN_SENSOR,
        minimum_interval_seconds=settings.alert_sensor_interval_sec,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Slack/e-mail alerts when a run of any job fails, a symbol fails or is "
        f"deferred in {settings.alert_consecutive_runs} runs in a row, or an asset check "
        "fails; and when each recovers. One alert per incident.",
    )
    def stockpipe_run_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        instance = context.instance
        if context.cursor is None:
            # First tick: start from now; runs that ended before alerts were set up stay quiet.
            start = instance.event_log_storage.get_maximum_record_id() or 0
            context.update_cursor(str(start))
            return dg.SkipReason(f"watching runs that end after event {start}")
        after = int(context.cursor)
        ended = _ended_after(instance, after)
        jobs = set(context.repository_def.job_names) if context.repository_def else None
        runs = []
        for storage_id, run_id, succeeded, at in ended:
            record = finished_run(
                instance, run_id, succeeded=succeeded, at=at, ui_url=settings.ui_url
            )
            if record is not None and (jobs is None or record.job in jobs):
                runs.append(record)
            after = max(after, storage_id)
        # Delivery retries and failures land in the tick's log in the UI, redacted.
        with (
            library_logs_to(context.log.log, settings),
            Database.from_settings(settings, max_size=1) as db,
        ):
            new = alert_service(settings, db).observe_runs(runs)
        context.update_cursor(str(after))
        return dg.SkipReason(f"{len(ended)} runs ended, {new} new to the alert rules")

    return stockpipe_run_alerts


def _ended_after(instance: dg.DagsterInstance, after: int) -> list[tuple[int, str, bool, float]]:
    """(storage id, run id, succeeded, when) of runs that ended after `after`, oldest first.

    Two queries (one per status) merged by storage id; when either filled its batch, only the
    events up to the smaller of the two last ids are certain to be complete, so the rest waits
    for the next tick.
    """
    found: list[tuple[int, str, bool, float]] = []
    horizon: int | None = None
    for status in _ENDED:
        result = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=status, after_storage_id=after),
            limit=_BATCH,
            ascending=True,
        )
        records: Sequence[dg.EventLogRecord] = result.records
        for record in records:
            entry = record.event_log_entry
            succeeded = status == dg.DagsterEventType.RUN_SUCCESS
            found.append((record.storage_id, entry.run_id, succeeded, entry.timestamp))
        if len(records) == _BATCH:
            last = records[-1].storage_id
            horizon = last if horizon is None else min(horizon, last)
    found.sort()
    return [item for item in found if horizon is None or item[0] <= horizon]


def _freshness_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name=FRESHNESS_SENSOR,
        minimum_interval_seconds=max(
            settings.alert_sensor_interval_sec, FRESHNESS_MIN_INTERVAL_SEC
        ),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Slack/e-mail alert when a configured symbol's newest bar of a series in "
        f"STOCK_SERIES ({', '.join(settings.stock_series)}) is more than "
        f"{settings.alert_stale_after_hours:g} h late (ALERT_STALE_AFTER_HOURS), and when it "
        "is fresh again.",
    )
    def stockpipe_freshness_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        with (
            library_logs_to(context.log.log, settings),
            Database.from_settings(settings, max_size=1) as db,
        ):
            # The universe as stored (no call): a delisted symbol leaves it, and its incident
            # resolves like that of a symbol removed from STOCK_SYMBOLS.
            followed = universe_symbols(db, settings)
            stale = alert_service(settings, db).observe_freshness(
                followed,
                series=settings.stock_series,
                interval=settings.stock_intraday_interval,
            )
        pairs = len(followed) * len(settings.stock_series)
        return dg.SkipReason(f"{stale} of {pairs} symbol series stale")

    return stockpipe_freshness_alerts
