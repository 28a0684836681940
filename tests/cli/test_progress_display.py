"""What a user sees on a terminal while a run works: progress, the gate's long waits, and log
lines on lines of their own (never glued to the bar)."""

from __future__ import annotations

import re

import pytest

from stockpipe.testing import FakeAlphaVantage
from tests.cli.terminal import run_in_terminal

# The elapsed time of a bar directly followed by a log line's date: `0:00:022026-12-05 ...`.
GLUED = re.compile(r"\d:\d\d:\d\d\d{4}-\d\d-\d\d")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) stockpipe", re.M)


@pytest.mark.timeout(400)
def test_ingest_shows_a_long_wait_and_keeps_log_lines_off_the_bar(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One call a minute: the second symbol waits for the window, however long the first call
    # took on a loaded machine (a reservation is made before its call).
    monkeypatch.setenv("API_CALLS_PER_MINUTE", "1")
    code, seen = run_in_terminal(["ingest", "--symbols", "IBM,INVALID1"])

    assert code == 1, seen  # INVALID1 fails: a warning logged while the bar is shown
    assert re.search(
        r"\b(IBM|INVALID1): waiting \d+ s for the API's per-minute limit \(API_CALLS_PER_MINUTE\)",
        seen,
    ), seen
    assert "ingest ━" in seen  # the bar was drawn
    assert not GLUED.search(seen), seen
    assert re.search(r"^\S+ \S+ WARNING stockpipe.ingest: INVALID1: failed", seen, re.M), seen
    assert LOG_LINE.search(seen)


@pytest.mark.timeout(300)
def test_actions_shows_progress_and_lists_each_action_once(fake: FakeAlphaVantage) -> None:
    split = {"effective_date": "2020-08-31", "split_factor": "4.0000"}
    dividend = {
        "ex_dividend_date": "2024-05-09",
        "declaration_date": "2024-04-30",
        "record_date": "2024-05-10",
        "payment_date": "None",
        "amount": "1.67",
    }
    fake.set_actions("IBM", splits=[split], dividends=[dividend])
    fake.set_actions("MSFT", splits=[], dividends=[{**dividend, "amount": "0.75"}])

    code, seen = run_in_terminal(["actions", "--symbols", "IBM,MSFT"])

    assert code == 0, seen
    assert re.search(r"actions ━+\S* +\d/4 ", seen), seen  # progress while fetching
    for action in (
        "IBM split 2020-08-31: new 4.0000",
        "IBM dividend 2024-05-09: new 1.67",
        "MSFT dividend 2024-05-09: new 0.75",
    ):
        assert seen.count(action) == 1, seen
    assert not GLUED.search(seen), seen


@pytest.mark.timeout(400)
def test_backfill_shows_a_long_wait_on_its_bar(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One call a minute: the second unit waits for the window whatever the first one took to
    # fetch and store (on a loaded machine, seen: 27 s).
    monkeypatch.setenv("API_CALLS_PER_MINUTE", "1")
    code, seen = run_in_terminal(["backfill", "--symbols", "IBM,MSFT", "--series", "weekly"])

    assert code == 0, seen
    assert re.search(
        r"\bMSFT: waiting \d+ s for the API's per-minute limit \(API_CALLS_PER_MINUTE\)", seen
    ), seen
    assert not GLUED.search(seen), seen
