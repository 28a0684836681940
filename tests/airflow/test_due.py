"""The gate of the series DAGs asks the library's schedule rule, in New York dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.airflow import tasks as bodies


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("WEEKLY_SCHEDULE_CRON", "MONTHLY_SCHEDULE_CRON", "INTRADAY_SCHEDULE_CRON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STOCKPIPE_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(
    ("series", "when", "due"),
    [
        # 2026-04-02 is the Thursday before Good Friday: that week's last session.
        ("weekly", datetime(2026, 4, 2, 22, 30, tzinfo=UTC), True),
        ("weekly", datetime(2026, 4, 1, 22, 30, tzinfo=UTC), False),
        # 23:30 UTC on Friday 2026-01-30 is 18:30 in New York: January's last session.
        ("monthly", datetime(2026, 1, 30, 23, 30, tzinfo=UTC), True),
        # 01:00 UTC on Saturday is still Friday evening in New York.
        ("monthly", datetime(2026, 1, 31, 1, 0, tzinfo=UTC), True),
        ("monthly", datetime(2026, 1, 29, 23, 30, tzinfo=UTC), False),
        ("intraday", datetime(2026, 12, 25, 15, 0, tzinfo=UTC), False),
        ("intraday", datetime(2026, 12, 24, 15, 0, tzinfo=UTC), True),
        ("daily", datetime(2026, 12, 25, 6, 0, tzinfo=UTC), True),
    ],
    ids=[
        "a holiday week is refreshed on its Thursday",
        "a Wednesday is not a week's last session",
        "the month's last session is refreshed",
        "the New York date counts, not the UTC one",
        "the day before the month's last session is not",
        "intraday skips Christmas",
        "intraday runs on Christmas Eve",
        "daily runs on every tick",
    ],
)
def test_a_scheduled_run_is_due_only_on_the_days_its_series_changes(
    series: str, when: datetime, due: bool
):
    assert bodies.due(series, when) is due


def test_an_overridden_cron_makes_every_weekly_tick_due(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEEKLY_SCHEDULE_CRON", "0 7 * * *")

    assert bodies.due("weekly", datetime(2026, 4, 1, 22, 30, tzinfo=UTC)) is True
