"""One asset per series, named like its table (`stock_data`, `stock_data_weekly`,
`stock_data_monthly`, `stock_data_intraday`), partitioned by symbol or by shard of symbols
(stockpipe.defs.shards), all selected symbols ingested in a single step.

The library's `ingest_symbols` runs the whole batch (so fetches overlap loads and the run pays
its start-up once). Dagster would stamp every partition of a single-run range with the same
metadata, and none at all if the step fails, so the asset yields no output and reports each
partition itself, as soon as the library has reported its symbols. Per symbol: an
AssetMaterialization (with that symbol's counts) for LOADED and UP_TO_DATE, an AssetObservation
for DEFERRED and FAILED. Per shard: one event with a table of its symbols, a materialization
when any of them is current. What loaded stays materialized in the UI even when another symbol
fails the run.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations
# of decorated functions at definition time.

import logging
import queue
import threading
import warnings
from collections.abc import Iterator, Sequence

import dagster as dg

from stockpipe.defs.checks import check_specs, evaluate_checks
from stockpipe.defs.resources import StockpipeResource
from stockpipe.defs.shards import in_shards, is_sharded, shard_event, shard_of
from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.gap_memory import full_history_allowed_for
from stockpipe.ingest.results import RunSummary, SymbolResult, SymbolStatus
from stockpipe.ingest.universe import UniverseUnavailable, tracked_symbols, uses_listing
from stockpipe.logs import library_logs_to
from stockpipe.series import DAILY, Series
from stockpipe.settings import SettingsError
from stockpipe.store.errors import DatabaseError, TransientDatabaseError

# Steps that touch the API share this pool; dagster.yaml gives it one slot, so two runs never
# spend the key's rate limit against each other (the PostgreSQL quota also holds across them).
API_POOL = "alphavantage"

# For what outlived the library's own retries (database restart, network outage): the step is
# re-run after ~30 s, 60 s, 120 s. Re-running is cheap: up-to-date symbols spend no call.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

_REPORTED = (SymbolStatus.LOADED, SymbolStatus.UP_TO_DATE)
logger = logging.getLogger(__name__)


def build_stock_data_asset(partitions: dg.PartitionsDefinition[str]) -> dg.AssetsDefinition:
    return build_series_asset(DAILY, partitions)


def _description(series: Series) -> str:
    if series is DAILY:
        return (
            "Daily bars from Alpha Vantage in the PostgreSQL table stock_data, "
            "one partition per symbol of a short STOCK_SYMBOLS list, else one per shard of"
            " the universe (a table of its symbols in each shard's metadata)."
        )
    return (
        f"{series.description}, from Alpha Vantage in the PostgreSQL table {series.table.name},"
        " one partition per symbol of a short STOCK_SYMBOLS list, else one per shard of the"
        " universe (a table of its symbols in each shard's metadata)."
    )


def backfill_policy(symbols_per_run: int | None) -> dg.BackfillPolicy:
    """How Dagster turns a backfill of many symbols into runs (STOCK_SYMBOLS_PER_RUN).

    None: one run for all of them (the library batches them, paying start-up once). A number:
    runs of at most that many consecutive symbols, which the run queue executes side by side
    (each in its own container with a run launcher), all spending from the one API quota that
    PostgreSQL keeps. docs/architecture.md, "Scale-out", says why this split and not another.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        if symbols_per_run is None:
            return dg.BackfillPolicy.single_run()
        return dg.BackfillPolicy.multi_run(max_partitions_per_run=symbols_per_run)


def build_series_asset(
    series: Series,
    partitions: dg.PartitionsDefinition[str],
    policy: dg.BackfillPolicy | None = None,
) -> dg.AssetsDefinition:
    """The asset of one series; every series' asset is this one function with its description."""
    with warnings.catch_warnings():
        # Beta in 1.13, and exactly what the jobs need: a backfill of every symbol is one run
        # (or runs of STOCK_SYMBOLS_PER_RUN symbols, `policy`).
        warnings.simplefilter("ignore", dg.BetaWarning)
        as_asset = dg.asset(
            name=series.table.name,
            partitions_def=partitions,
            backfill_policy=policy or backfill_policy(None),
            output_required=False,
            check_specs=check_specs(series),
            pool=API_POOL,
            retry_policy=TRANSIENT_RETRY,
            group_name="stocks",
            kinds={"postgres"},
            description=_description(series),
        )

    @as_asset
    def stock_data(
        context: dg.AssetExecutionContext, stockpipe: StockpipeResource
    ) -> Iterator[dg.AssetMaterialization | dg.AssetObservation | dg.AssetCheckResult]:
        selected = list(context.partition_keys)
        every_key = partitions.get_partition_keys()
        sharded = is_sharded(every_key)
        try:
            with (
                stockpipe.ingest_context(run_id=context.run.run_id) as ctx,
                library_logs_to(context.log.log, ctx.settings),
            ):
                symbols = run_symbols(ctx, selected, every_key, sharded=sharded)
                reported = _ingest_as_reported(ctx, symbols, series)
                report = (
                    _shard_events(context.asset_key, reported, symbols, selected)
                    if sharded
                    else _symbol_events(context.asset_key, reported, set(every_key))
                )
                summary: RunSummary | None = None
                for item in report:
                    if isinstance(item, RunSummary):
                        summary = item
                    else:
                        yield item
                interval = ctx.settings.stock_intraday_interval
                full_allowed = series is not DAILY or full_history_allowed_for(ctx)
                yield from evaluate_checks(
                    ctx.db, symbols, series, interval, full_allowed=full_allowed
                )
        except (SettingsError, DatabaseError, UniverseUnavailable) as exc:
            if isinstance(exc, TransientDatabaseError):
                raise
            # Bad configuration, credentials or schema: retrying cannot help.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        assert summary is not None
        context.log.info(summary.message)
        if summary.failure:
            raise dg.Failure(
                description=summary.failure,
                metadata=summary_metadata(summary),
                allow_retries=False,
            )

    return stock_data


def run_symbols(
    ctx: IngestContext, selected: list[str], every_key: Sequence[str], *, sharded: bool = False
) -> list[str]:
    """The symbols a run ingests.

    Sharded: the universe read now (the listing refreshed first when due, so a new listing is
    in its shard on its first day), kept to the selected shards. Per symbol, STOCK_UNIVERSE=
    symbols: its partitions. Per symbol, listing (a stored universe of at most PER_SYMBOL_MAX,
    only while the code has not reloaded since): a run over every partition follows today's
    universe; a narrower one keeps the selected symbols still in it, so a delisted partition
    costs no call."""
    if sharded:
        return in_shards(tracked_symbols(ctx), selected)
    if not uses_listing(ctx.settings):
        return selected
    tracked = tracked_symbols(ctx)
    if set(selected) == set(every_key):
        extra = sorted(set(tracked) - set(every_key))
        if extra:
            logger.info(
                "%d symbols of today's universe are not partitions until the code location"
                " reloads: %s", len(extra), ", ".join(extra[:20]),
            )  # fmt: skip
        return list(tracked)
    return [symbol for symbol in selected if symbol in set(tracked)]


def _symbol_events(
    asset_key: dg.AssetKey, reported: Iterator[SymbolResult | RunSummary], keys: set[str]
) -> Iterator[dg.AssetMaterialization | dg.AssetObservation | RunSummary]:
    for item in reported:
        if isinstance(item, RunSummary):
            yield item
        elif item.symbol in keys:
            yield symbol_event(asset_key, item)


def _shard_events(
    asset_key: dg.AssetKey,
    reported: Iterator[SymbolResult | RunSummary],
    symbols: Sequence[str],
    shards: Sequence[str],
) -> Iterator[dg.AssetMaterialization | dg.AssetObservation | RunSummary]:
    """A shard's event as soon as the library has reported its last symbol; shards holding
    no symbol today, and any the library did not finish, when the batch ends."""
    waiting: dict[str, int] = {shard: 0 for shard in shards}
    for symbol in symbols:
        waiting[shard_of(symbol)] += 1
    results: dict[str, list[SymbolResult]] = {shard: [] for shard in shards}
    for item in reported:
        if isinstance(item, RunSummary):
            for shard in shards:
                if shard in waiting:
                    yield shard_event(asset_key, shard, results[shard])
            yield item
            return
        shard = shard_of(item.symbol)
        if shard not in waiting:
            continue
        results[shard].append(item)
        waiting[shard] -= 1
        if waiting[shard] == 0:
            del waiting[shard]
            yield shard_event(asset_key, shard, results[shard])


def symbol_event(
    asset_key: dg.AssetKey, result: SymbolResult
) -> dg.AssetMaterialization | dg.AssetObservation:
    """The event one symbol's result becomes: its partition, its own counts."""
    metadata = symbol_metadata(result)
    if result.status in _REPORTED:
        return dg.AssetMaterialization(
            asset_key=asset_key,
            partition=result.symbol,
            description=result.message or None,
            metadata=metadata,
        )
    return dg.AssetObservation(
        asset_key=asset_key,
        partition=result.symbol,
        description=result.message or None,
        metadata=metadata,
    )


def symbol_metadata(result: SymbolResult) -> dict[str, dg.MetadataValue]:
    return {
        "status": dg.MetadataValue.text(result.status.value),
        "calls": dg.MetadataValue.int(result.calls),
        "rows_inserted": dg.MetadataValue.int(result.inserted),
        "rows_updated": dg.MetadataValue.int(result.updated),
        "rows_unchanged": dg.MetadataValue.int(result.unchanged),
        "rows_skipped": dg.MetadataValue.int(result.skipped_total),
        "skipped_by_reason": dg.MetadataValue.json(dict(result.skipped)),
        "latest_bar": dg.MetadataValue.text(
            result.latest_bar.isoformat() if result.latest_bar else "none"
        ),
        "history_limited": dg.MetadataValue.bool(result.history_limited),
        # Read by the alert sensors: waiting for Alpha Vantage to publish is not a failure.
        "awaiting_publication": dg.MetadataValue.bool(result.awaiting_publication),
        "message": dg.MetadataValue.text(result.message),
    }


def summary_metadata(summary: RunSummary) -> dict[str, dg.MetadataValue]:
    return {
        "calls": dg.MetadataValue.int(summary.calls),
        "rows_inserted": dg.MetadataValue.int(summary.inserted),
        "rows_updated": dg.MetadataValue.int(summary.updated),
        "failed": dg.MetadataValue.json({r.symbol: r.message for r in summary.failed}),
        "deferred": dg.MetadataValue.json([r.symbol for r in summary.deferred]),
    }


def _ingest_as_reported(
    ctx: IngestContext, symbols: Sequence[str], series: Series = DAILY
) -> Iterator[SymbolResult | RunSummary]:
    """Each SymbolResult as the library reports it, then the RunSummary.

    A generator cannot yield from inside a callback, so the batch runs on a worker thread and
    hands results over a queue; the events then reach the UI while the run is still going.
    """
    handoff: queue.Queue[SymbolResult | RunSummary | BaseException] = queue.Queue()

    def work() -> None:
        try:
            handoff.put(ingest_symbols(ctx, symbols, on_result=handoff.put, series=series))
        except BaseException as exc:  # re-raised on the step's own thread below
            handoff.put(exc)

    # Daemon: if the run is terminated, the process may exit without waiting for the batch;
    # each symbol's upsert is one transaction, so an interrupted one leaves nothing behind.
    worker = threading.Thread(target=work, name="stockpipe-ingest", daemon=True)
    worker.start()
    while True:
        item = handoff.get()
        if isinstance(item, BaseException):
            worker.join()
            raise item
        yield item
        if isinstance(item, RunSummary):
            worker.join()
            return
