"""Airflow with STOCK_UNIVERSE=listing: stock_dag's plan task refreshes the listing and maps
today's universe; corporate_actions_dag follows the same universe without a second refresh."""

from __future__ import annotations

from datetime import date

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.listings import ListedCompany
from tests.airflow.helpers import load_dag_bag, run_stock_dag, task_result

pytestmark = pytest.mark.usefixtures("airflow_home")


def test_stock_dag_and_corporate_actions_dag_follow_the_listing(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    today = latest_completed_session()
    fake_av.set_listing(
        [
            ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
            ListedCompany("GONE", "Gone Away Inc", "NASDAQ", "Stock", date(2016, 1, 4), today),
            ListedCompany("NEWC", "Newcomer Holdings", "NASDAQ", "Stock", today),
        ]
    )
    pipeline_env.setenv("STOCK_UNIVERSE", "listing")
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM")

    run = run_stock_dag()

    assert str(run.state) == "success"
    chunks = task_result(run, "plan_chunks")
    assert sorted(symbol for chunk in chunks for symbol in chunk) == ["KEEP", "NEWC"]
    assert sorted((c.function, c.symbol) for c in fake_av.calls()) == [
        ("LISTING_STATUS", ""), ("LISTING_STATUS", ""),
        ("TIME_SERIES_DAILY", "KEEP"), ("TIME_SERIES_DAILY", "NEWC"),
    ]  # fmt: skip

    spent = len(fake_av.calls())
    actions = load_dag_bag().dags["corporate_actions_dag"].test()
    assert str(actions.state) == "success"
    assert sorted((c.function, c.symbol) for c in fake_av.calls()[spent:]) == [
        ("DIVIDENDS", "KEEP"), ("DIVIDENDS", "NEWC"), ("SPLITS", "KEEP"), ("SPLITS", "NEWC"),
    ]  # fmt: skip
