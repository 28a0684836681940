"""A finished Dagster run -> `stockpipe.alerts.FinishedRun`, read from the run's own events.

Every asset that reports its symbols the way `stock_data` does (an event per symbol partition
with a `status` metadata entry, or per shard with a table of its symbols) feeds the alerts,
whatever job runs it; every asset check evaluation in the run does too. Nothing here decides
anything: the rules live in stockpipe.alerts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from stockpipe.alerts import CheckOutcome, FinishedRun, SymbolOutcome
from stockpipe.defs.shards import symbol_rows

_EVENTS = {
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_OBSERVATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.RUN_FAILURE,
}
# Check examples are lines like "- IBM 2024-05-03: high < low" (stockpipe.store.quality).
_EXAMPLE_SYMBOL = re.compile(r"^-?\s*([A-Z0-9][A-Z0-9.\-]*)[\s:]")
_ERROR_CHARS = 600


def finished_run(
    instance: dg.DagsterInstance, run_id: str, *, succeeded: bool, at: float, ui_url: str
) -> FinishedRun | None:
    """The run as the alert rules see it; None if the run is gone from storage."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return None
    symbols: dict[tuple[str, str], SymbolOutcome] = {}
    checks: dict[tuple[str, str], CheckOutcome] = {}
    errors: list[str] = []
    run_failure = ""
    for entry in instance.all_logs(run_id, of_type=_EVENTS):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            _add_symbol(symbols, event.step_materialization_data.materialization)
        elif kind == dg.DagsterEventType.ASSET_OBSERVATION:
            _add_symbol(symbols, event.asset_observation_data.asset_observation)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            check = _check(event.asset_check_evaluation_data)
            checks[(check.asset, check.check)] = check  # a retried step's last word wins
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            errors.append(_step_error(event))
        elif kind == dg.DagsterEventType.RUN_FAILURE:
            run_failure = event.message or ""
    error = "; ".join(dict.fromkeys(e for e in errors if e)) or run_failure
    return FinishedRun(
        run_id=run_id,
        job=run.job_name,
        succeeded=succeeded,
        finished_at=datetime.fromtimestamp(at, UTC),
        symbols=tuple(symbols.values()),
        checks=tuple(checks.values()),
        error="" if succeeded else error[:_ERROR_CHARS],
        url=f"{ui_url}/runs/{run_id}",
    )


def _add_symbol(
    found: dict[tuple[str, str], SymbolOutcome],
    event: dg.AssetMaterialization | dg.AssetObservation,
) -> None:
    asset = event.asset_key.to_user_string()
    for row in symbol_rows(event.metadata):
        found[(asset, str(row["symbol"]))] = SymbolOutcome(
            asset=asset,
            symbol=str(row["symbol"]),
            status=str(row["status"]),
            message=str(row.get("message") or ""),
            awaiting_publication=bool(row.get("awaiting_publication", False)),
        )
    metadata = _plain(event.metadata)
    status = metadata.get("status")
    if event.partition is None or not isinstance(status, str):
        return
    found[(asset, event.partition)] = SymbolOutcome(
        asset=asset,
        symbol=event.partition,
        status=status,
        message=str(metadata.get("message") or event.description or ""),
        awaiting_publication=bool(metadata.get("awaiting_publication", False)),
    )


def _check(evaluation: Any) -> CheckOutcome:
    metadata = _plain(evaluation.metadata)
    raw_examples = str(metadata.get("examples") or "")
    examples = tuple(
        line.removeprefix("- ").strip()
        for line in raw_examples.splitlines()
        if line.strip() and line.strip() != "none"
    )
    symbols = tuple(
        dict.fromkeys(m[1] for line in examples if (m := _EXAMPLE_SYMBOL.match(line + " ")))
    )
    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        check=evaluation.check_name,
        passed=bool(evaluation.passed),
        summary=evaluation.description or "",
        examples=examples,
        symbols=symbols,
    )


def _step_error(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return str(data.user_failure_data.description)
    if data.error is not None:
        return f"{data.error.cls_name}: {data.error.message.strip()}"
    return event.message or ""


def _plain(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}
