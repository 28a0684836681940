"""The backfill's plan and its arithmetic, pure: no database, no server."""

from __future__ import annotations

from datetime import date

import pytest

from stockpipe.ingest.backfill.progress import BudgetView
from stockpipe.ingest.backfill.units import Known, months_since, plan_units

ALL = ("daily", "weekly", "monthly", "intraday")


def labels(units: tuple[object, ...]) -> list[str]:
    return [u.label for u in units]  # type: ignore[attr-defined]


def test_months_run_up_to_the_last_complete_one() -> None:
    assert months_since("2023-11", date(2024, 2, 29)) == ("2023-11", "2023-12", "2024-01")
    assert months_since("2024-02", date(2024, 2, 1)) == ()


def test_a_fresh_premium_plan_orders_long_histories_first_and_months_newest_first() -> None:
    plan = plan_units(
        ["IBM", "MSFT"], ALL, Known({}, frozenset()), interval="5min", months=["2024-01", "2024-02"]
    )
    assert labels(plan.todo) == [
        "IBM weekly full", "MSFT weekly full", "IBM monthly full", "MSFT monthly full",
        "IBM daily full", "MSFT daily full",
        "IBM intraday 5min 2024-02", "IBM intraday 5min 2024-01",
        "MSFT intraday 5min 2024-02", "MSFT intraday 5min 2024-01",
    ]  # fmt: skip
    assert (plan.calls, plan.unreachable, plan.settled) == (10, (), ())


def test_stored_rows_and_done_units_need_no_call() -> None:
    known = Known(
        {"weekly": frozenset({"IBM"}), "monthly": frozenset(), "daily": frozenset({"IBM"})},
        frozenset({("IBM", "intraday", "5min 2024-01"), ("IBM", "daily", "full")}),
    )
    plan = plan_units(["IBM"], ALL, known, interval="5min", months=["2024-01"])
    assert labels(plan.todo) == ["IBM monthly full"]
    assert sorted(labels(plan.settled)) == [
        "IBM daily full", "IBM intraday 5min 2024-01", "IBM weekly full",
    ]  # fmt: skip


def test_a_free_key_plans_compact_only_where_no_daily_bar_is_stored() -> None:
    known = Known({"daily": frozenset({"IBM"})}, frozenset(), full_denied=True)
    plan = plan_units(["IBM", "MSFT"], ["daily"], known, interval="5min", months=[])
    assert labels(plan.todo) == ["MSFT daily compact"]
    assert labels(plan.unreachable) == ["IBM daily full", "MSFT daily full"]
    assert labels(plan.newly_unreachable) == ["IBM daily full", "MSFT daily full"]
    reported = Known(
        known.has_rows, known.done, frozenset({("IBM", "daily", "full")}), full_denied=True
    )
    again = plan_units(["IBM", "MSFT"], ["daily"], reported, interval="5min", months=[])
    assert labels(again.newly_unreachable) == ["MSFT daily full"]
    retry = plan_units(
        ["IBM"], ["daily"], known, interval="5min", months=[], retry_unreachable=True
    )
    assert labels(retry.todo) == ["IBM daily full"]


def test_a_denied_series_is_unreachable_month_by_month() -> None:
    known = Known({}, frozenset(), denied_series=frozenset({"intraday"}))
    plan = plan_units(["IBM"], ["intraday"], known, interval="1min", months=["2024-01", "2024-02"])
    assert (plan.todo, labels(plan.unreachable)) == (
        (), ["IBM intraday 1min 2024-02", "IBM intraday 1min 2024-01"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("budget", "calls", "days"),
    [
        (BudgetView(10, 6, 0), 12, 3),  # 4 today, 4 + 4 later
        (BudgetView(10, 6, 4), 12, 3),  # today spent: 3 more days
        (BudgetView(10, 6, 2), 3, 2),  # 2 today, 1 tomorrow
        (BudgetView(10, 6, 0), 0, 0),
        (BudgetView(10, 10, 0), 1, None),  # the reserve leaves nothing: never
        (BudgetView(10, 0, 0, day_exhausted=True), 5, 1),  # the API said today is gone
    ],
)
def test_days_needed(budget: BudgetView, calls: int, days: int | None) -> None:
    assert budget.days_needed(calls) == days
