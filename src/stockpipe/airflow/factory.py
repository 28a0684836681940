"""build_ingest_dag: one series' ingest as an Airflow 3 DAG (TaskFlow API), wiring only;
build_corporate_actions_dag: the corporate actions' refresh, one task;
build_backfill_dag: the history backfill, one task, paused until started (Dagster's
backfill_schedule is stopped until started, too).

    [due ──>] plan_chunks ──> ingest_chunk[0..n] (mapped, pool alphavantage) ──> check_symbols

- due (weekly, monthly, intraday): a short circuit asking the library's schedule rule
  (stockpipe.scheduling) whether this tick's New York date is one the series is refreshed on
  (the last session of the week or month; a session for intraday); a manual run always goes.

- plan_chunks: STOCK_SYMBOLS in the library's order, split in at most `max_chunks` chunks
  (stockpipe.ingest.chunks), so a universe of thousands stays far under max_map_length.
- ingest_chunk: one mapped task per chunk, in the one-slot pool `alphavantage`, calling
  stockpipe.ingest.ingest_symbols. The library retries the API itself and spends calls through
  the PostgreSQL quota ledger shared with every other stockpipe process (Dagster included);
  Airflow's retries (exponential backoff) are for what outlived those (a database restart).
- check_symbols: fails, naming every failed symbol and the library's reason, when any symbol
  failed, or when the run got no data at all (every symbol deferred), as a Dagster run does;
  deferred symbols beside loaded ones (budget spent) do not fail it.

Settings are read when a task runs, so a new STOCK_SYMBOLS needs no DAG re-parse; only the
schedule is read when the DAG file is parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, CronTriggerTimetable, Param, dag, get_current_context, task

from stockpipe.airflow import API_POOL
from stockpipe.airflow import tasks as bodies
from stockpipe.ingest.chunks import DEFAULT_MAX_CHUNKS, DEFAULT_PER_CHUNK
from stockpipe.scheduling import BACKFILL_CRON, series_schedule
from stockpipe.series import DAILY, series_named
from stockpipe.settings import Settings

# Every task that calls the API: in the one-slot pool that serialises the key's calls, and
# retried for what outlived the library's own retries (database restart, network outage)
# after ~30 s, 60 s, 120 s, as Dagster's jobs do. Re-running is cheap: what is stored, or not
# due, spends no call.
API_TASK: dict[str, Any] = {
    "pool": API_POOL,
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}


def on_cron(cron: str, timezone: str = "UTC") -> CronTriggerTimetable:
    """A DAG's schedule. Like a Dagster schedule, a DAG seen for the first time runs nothing
    until its next tick: no start_date, and run_immediately=0 (Airflow's default would run
    the latest missed tick at once if it is recent, calling the API with no one asking; a start
    date in the past would run it whatever its age). After downtime the latest missed tick runs
    once the scheduler is back (catchup off: only that one), as Dagster's daemon catches up a
    missed tick; the call gate's budget order holds either way."""
    return CronTriggerTimetable(cron, timezone=timezone, run_immediately=timedelta(0))


def dag_id_of(series: str) -> str:
    """stock_dag for daily (the original name), stock_<series>_dag for the others."""
    return "stock_dag" if series == DAILY.name else f"stock_{series}_dag"


def build_series_dag(series: str, settings: Settings) -> DAG:
    """The DAG of one series on its schedule (stockpipe.scheduling, the rule Dagster's
    schedules follow), paused at creation unless STOCK_SERIES names it."""
    schedule = series_schedule(series, settings)
    name = series_named(series).name
    paused = name not in settings.stock_series
    if schedule.series is DAILY:
        return build_ingest_dag(dag_id_of(name), schedule=on_cron(schedule.cron), paused=paused)
    return build_ingest_dag(
        dag_id_of(name),
        schedule=on_cron(schedule.cron, schedule.timezone),
        series=name,
        gated=schedule.filtered or name == "intraday",
        paused=paused,
    )


def build_ingest_dag(
    dag_id: str,
    *,
    schedule: str | CronTriggerTimetable | None,
    series: str = bodies.DAILY,
    per_chunk: int = DEFAULT_PER_CHUNK,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
    gated: bool = False,
    paused: bool = False,
) -> DAG:
    """The DAG that refreshes `series` of every STOCK_SYMBOLS symbol on `schedule` (cron).
    `gated`: a scheduled run first asks the library whether its day is one the series is
    refreshed on."""

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        catchup=False,
        is_paused_upon_creation=paused,
        # Two runs would only queue behind each other in the pool; one at a time is clearer.
        max_active_runs=1,
        tags=["stockpipe", series],
        doc_md=f"Refreshes the {series} bars of every `STOCK_SYMBOLS` symbol in PostgreSQL "
        "through the stockpipe library (docs/orchestrators.md).",
    )
    def ingest_dag() -> None:
        @task(task_id="plan_chunks")
        def plan_chunks_task() -> list[list[str]]:
            return bodies.plan(per_chunk=per_chunk, max_chunks=max_chunks)

        @task(
            task_id="ingest_chunk",
            **API_TASK,
            # The grid names each mapped task by its symbols instead of 0, 1, 2...
            map_index_template="{{ chunk_label }}",
        )
        def ingest_chunk_task(symbols: list[str]) -> bodies.ChunkSummary:
            get_current_context()["chunk_label"] = _chunk_label(symbols)
            return bodies.ingest_chunk(symbols, series=series)

        @task(task_id="check_symbols")
        def check_task(summaries: Sequence[bodies.ChunkSummary]) -> dict[str, Any]:
            # By index, not by iterating: iterating the mapped results probes one past the end
            # and logs a "not found" error in every run.
            return bodies.check([summaries[i] for i in range(len(summaries))])

        @task.short_circuit(task_id="due")
        def due_task() -> bool:
            context = get_current_context()
            run = context["dag_run"]
            if run.run_type != "scheduled":
                return True  # a run someone asked for goes whatever the day
            return bodies.due(series, context.get("logical_date") or run.run_after)

        chunks = plan_chunks_task()
        if gated:
            due_task() >> chunks
        check_task(ingest_chunk_task.expand(symbols=chunks))

    built: DAG = ingest_dag()
    return built


ACTIONS_DAG_ID = "corporate_actions_dag"


def build_corporate_actions_dag(settings: Settings) -> DAG:
    """One task on CORPORATE_ACTIONS_SCHEDULE_CRON (UTC), Dagster's corporate_actions_schedule:
    the library fetches the splits and dividends that are due (the rest cost no call), in the
    pool the bars use, and reports what changed in the task log and its XCom."""

    @dag(
        dag_id=ACTIONS_DAG_ID,
        schedule=on_cron(settings.corporate_actions_schedule_cron),
        catchup=False,
        is_paused_upon_creation=False,
        max_active_runs=1,
        tags=["stockpipe", "corporate_actions"],
        doc_md="Refreshes the splits and dividends (stock_splits, stock_dividends) of every "
        "`STOCK_SYMBOLS` symbol that is due, through the stockpipe library "
        "(docs/orchestrators.md).",
    )
    def actions_dag() -> None:
        @task(
            task_id="refresh_corporate_actions",
            **API_TASK,
        )
        def refresh_task() -> bodies.ActionsReport:
            return bodies.refresh_actions()

        refresh_task()

    built: DAG = actions_dag()
    return built


BACKFILL_DAG_ID = "backfill_dag"


def build_backfill_dag() -> DAG:
    """One task on BACKFILL_CRON (07:00 UTC, after the daily refresh), paused at creation:
    the library loads the history each symbol and series still lacks within the budget the
    scheduled refreshes leave, and resumes where the last run stopped. "Trigger DAG w/ config"
    narrows a run (symbols, series, since, retry_unreachable), as the CLI's options do."""

    @dag(
        dag_id=BACKFILL_DAG_ID,
        schedule=on_cron(BACKFILL_CRON),
        catchup=False,
        is_paused_upon_creation=True,
        max_active_runs=1,
        tags=["stockpipe", "backfill"],
        params={
            "symbols": Param([], type="array", description="empty: STOCK_SYMBOLS"),
            "series": Param([], type="array", description="empty: STOCK_SERIES"),
            "since": Param(
                None, type=["null", "string"], description="YYYY-MM, first intraday month"
            ),
            "retry_unreachable": Param(False, type="boolean"),
        },
        doc_md="Backfills the history of `STOCK_SYMBOLS` x `STOCK_SERIES` through the stockpipe"
        " library within `API_DAILY_BUDGET` minus `BACKFILL_RESERVE_CALLS`; paused until you"
        ' unpause it (docs/operations.md, "Backfilling history").',
    )
    def backfill_dag() -> None:
        @task(
            task_id="backfill",
            **API_TASK,
        )
        def backfill_task() -> bodies.BackfillReport:
            params = get_current_context()["params"]
            return bodies.backfill(
                symbols=params.get("symbols") or (),
                series=params.get("series") or (),
                since=params.get("since"),
                retry_unreachable=bool(params.get("retry_unreachable")),
            )

        backfill_task()

    built: DAG = backfill_dag()
    return built


def _chunk_label(symbols: list[str]) -> str:
    if len(symbols) <= 3:
        return ", ".join(symbols)
    return f"{symbols[0]} .. {symbols[-1]} ({len(symbols)})"
