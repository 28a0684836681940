"""Messages as a person reads them: each kind, opened and recovered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stockpipe.alerts.incidents import CHECK_FAILED, STALE, SYMBOL_STREAK, Transition
from stockpipe.alerts.render import render

AT = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)


def transition(
    kind: str,
    subject: str,
    details: dict[str, Any],
    close: dict[str, Any] | None = None,
    occurrences: int = 1,
) -> Transition:
    return Transition(
        1, kind, subject, close is not None, AT, AT if close else None, occurrences,
        details, close or {}, AT,
    )  # fmt: skip


def texts(*transitions: Transition) -> list[str]:
    return [f"{m.title}\n{m.text()}" for m in render(list(transitions))]


def test_stale_symbols_are_one_message_with_the_usual_causes():
    details = {"latest": "2026-11-05", "missing_since": "2026-11-06", "window_hours": 36}
    [text] = texts(
        transition(STALE, "daily/IBM", {**details, "sessions_behind": 3}),
        transition(STALE, "daily/MSFT", {**details, "sessions_behind": 1}),
    )
    assert text.splitlines() == [
        "stockpipe: 2 symbols stale for more than 36 h",
        "daily/IBM: newest bar 2026-11-05, 3 sessions missing since 2026-11-06",
        "daily/MSFT: newest bar 2026-11-05, 1 session missing since 2026-11-06",
        "Usual causes: the API budget ran out, the schedule is off, or the daemon was down;"
        " `stockpipe status` shows each symbol's last result.",
    ]


def test_a_stale_weekly_symbol_names_its_table_and_counts_weeks():
    details = {"series": "weekly", "table": "stock_data_weekly", "latest": "2026-03-27"}
    missing = {"missing_since": "2026-04-02", "sessions_behind": 2, "window_hours": 36}
    [text] = texts(transition(STALE, "weekly/IBM", {**details, **missing}))
    assert text.splitlines()[1] == (
        "weekly/IBM in stock_data_weekly: newest bar 2026-03-27, 2 weeks missing since 2026-04-02"
    )


def test_a_fresh_symbol_recovers_by_name():
    [text] = texts(transition(STALE, "daily/IBM", {}, close={"latest": "2026-11-09"}))
    assert (
        text
        == "stockpipe: 1 symbol up to date again\ndaily/IBM: fresh again, newest bar 2026-11-09"
    )


def test_a_streak_recovery_counts_every_bad_run_of_the_incident():
    opened = {"consecutive": 3, "status": "failed", "message": "x"}
    close = {"status": "up_to_date", "run_id": "r-9"}
    [text] = texts(transition(SYMBOL_STREAK, "stock_data/IBM", opened, close, occurrences=4))
    assert text == (
        "stockpipe: 1 symbol recovered\n"
        "stock_data/IBM: up to date in run r-9, after 6 failed or deferred runs in a row"
    )


def test_opened_and_recovered_of_one_kind_are_separate_messages():
    failed = transition(
        CHECK_FAILED, "stock_data:ohlc_sanity", {"summary": "1 bad", "run_id": "r-1", "url": "u"}
    )
    passed = transition(CHECK_FAILED, "stock_data:freshness", {}, close={"summary": "2 of 2 fresh"})

    assert [t.splitlines()[0] for t in texts(failed, passed)] == [
        "stockpipe: 1 asset check failed",
        "stockpipe: 1 asset check passes again",
    ]


def test_secrets_are_masked_in_every_part():
    details = {
        "latest": "key-Secret-123",
        "missing_since": "x",
        "sessions_behind": 1,
        "window_hours": 36,
    }
    [message] = render([transition(STALE, "daily/IBM", details)], ["key-Secret-123"])
    assert "key-Secret-123" not in message.title + message.text()
    assert "newest bar ***" in message.text()
