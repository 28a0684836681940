"""STOCK_SYMBOLS_PER_RUN: a Dagster backfill of a series' asset as several runs (the split the
run-launcher stack executes side by side; scripts/runlauncher-smoke.sh runs it on an engine)."""

from __future__ import annotations

import dagster as dg
import pytest

from stockpipe.series import SERIES
from tests.defs.conftest import load_definitions

SYMBOLS = "IBM,MSFT,AAPL,NVDA,AMZN"


def _policies(defs: dg.Definitions) -> dict[str, dg.BackfillPolicy | None]:
    return {
        name: defs.resolve_assets_def(dg.AssetKey(series.table.name)).backfill_policy
        for name, series in SERIES.items()
    }


def test_without_the_setting_a_backfill_of_every_series_is_one_run(
    placeholder_env: pytest.MonkeyPatch,
) -> None:
    placeholder_env.setenv("STOCK_SYMBOLS", SYMBOLS)
    policies = _policies(load_definitions())
    assert set(policies.values()) == {dg.BackfillPolicy.single_run()}


def test_with_it_every_series_backfill_is_split_into_runs_of_that_many_symbols(
    placeholder_env: pytest.MonkeyPatch,
) -> None:
    placeholder_env.setenv("STOCK_SYMBOLS", SYMBOLS)
    placeholder_env.setenv("STOCK_SYMBOLS_PER_RUN", "2")
    policies = _policies(load_definitions())
    assert set(policies) == set(SERIES)
    for policy in policies.values():
        assert policy == dg.BackfillPolicy.multi_run(max_partitions_per_run=2)
