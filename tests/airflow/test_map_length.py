"""stock_dag at market scale: the mapped chunks stay within Airflow's [core] max_map_length
(default 1,024), whatever the universe holds, and a lowered limit is respected too (the
scheduler fails a run whose plan maps more chunks than the limit)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.ingest import universe
from stockpipe.ingest.chunks import DEFAULT_MAX_CHUNKS
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.airflow.helpers import load_dag_bag, task_result, task_states

pytestmark = pytest.mark.usefixtures("airflow_home")


def active_universe(db: Database) -> int:
    """The stored universe's size, as every run reads it."""
    return len(universe.symbols(db, Settings.load()))


def plan_only() -> Any:
    """A run of stock_dag's plan_chunks task alone (the listing refresh and the split)."""
    bag = load_dag_bag()
    assert bag.import_errors == {}
    subset = bag.dags["stock_dag"].partial_subset(["plan_chunks"], include_downstream=False)
    return subset.test()


def test_ten_thousand_listed_symbols_map_into_at_most_max_map_length_chunks(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
) -> None:
    fake_av.configure(listing_size=16_000)  # about 10,300 active stocks
    pipeline_env.setenv("STOCK_UNIVERSE", "listing")

    run = plan_only()

    assert str(run.state) == "success"
    chunks = task_result(run, "plan_chunks")
    listed = active_universe(db)
    assert listed >= 10_000
    assert len(chunks) <= DEFAULT_MAX_CHUNKS < 1024
    assert len(chunks[0]) > 25, "past 6,400 symbols the chunks grow, their count does not"
    assert sum(map(len, chunks)) == len({s for chunk in chunks for s in chunk}) == listed


def test_a_lowered_max_map_length_gets_fewer_larger_chunks_and_the_run_succeeds(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
) -> None:
    fake_av.configure(listing_size=600)  # about 390 active stocks
    pipeline_env.setenv("STOCK_UNIVERSE", "listing")
    pipeline_env.setenv("API_DAILY_BUDGET", "7")  # the listing's 2 calls, then 5 symbols
    pipeline_env.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "8")  # 25 a chunk: 16 chunks

    bag = load_dag_bag()
    run = bag.dags["stock_dag"].test()

    assert str(run.state) == "success"
    chunks = task_result(run, "plan_chunks")
    assert len(chunks) == 8
    assert sum(map(len, chunks)) == active_universe(db)
    states = task_states(run)
    assert sorted(i for (task, i) in states if task == "ingest_chunk") == list(range(8))
    assert {state for (task, _), state in states.items() if task == "ingest_chunk"} == {"success"}
    assert len([c for c in fake_av.calls() if c.function == "TIME_SERIES_DAILY"]) == 5
