"""The gap rules without a database: which sessions are missing, which call reaches them, what
an answer shows of the vendor's own holes, and how they read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from stockpipe.bars import Bar
from stockpipe.ingest.gaps import (
    Answer,
    Reach,
    SessionGaps,
    answer_lacks,
    by_reach,
    describe_missing,
    describe_vendor_missing,
    format_days,
    missing_sessions_check,
    premium_only_message,
    session_gaps,
)
from stockpipe.ingest.plan import COMPACT_SAFE_GAP, compact_reach, plan_fetch
from stockpipe.market_calendar import new_york_midnight, sessions_between
from stockpipe.store.sessions import StoredSessions

TARGET = date(2024, 5, 8)  # a Wednesday
SESSIONS = sessions_between(date(2023, 1, 1), TARGET)
REACH = SESSIONS[-COMPACT_SAFE_GAP]  # the oldest session compact surely holds
THANKSGIVING, BLACK_FRIDAY = date(2023, 11, 23), date(2023, 11, 24)  # closed; a half-day
GOOD_FRIDAY = date(2024, 3, 29)


def stored(
    first: date,
    latest: date,
    holes: tuple[tuple[date, date], ...] = (),
    vendor_missing: frozenset[date] = frozenset(),
) -> StoredSessions:
    return StoredSessions(first, new_york_midnight(latest), holes, vendor_missing, frozenset())


def bar(day: date) -> Bar:
    one = Decimal(1)  # only the time matters to an Answer
    return Bar("IBM", "1d", new_york_midnight(day), one, one, one, one, 1, b"{}")


def test_holidays_are_never_expected_and_half_days_are_sessions() -> None:
    assert THANKSGIVING not in SESSIONS and GOOD_FRIDAY not in SESSIONS
    assert BLACK_FRIDAY in SESSIONS  # the 13:00 close: a session like any other
    # Steps over Thanksgiving and Good Friday, should the store report them: nothing missing.
    steps = ((date(2023, 11, 22), BLACK_FRIDAY), (date(2024, 3, 28), date(2024, 4, 1)))
    assert session_gaps("IBM", stored(date(2023, 11, 1), TARGET, steps), TARGET).missing == ()


def test_missing_sessions_are_the_calendars_minus_stored_minus_the_vendors_own() -> None:
    holes = ((date(2023, 11, 21), date(2023, 11, 28)), (date(2024, 4, 30), date(2024, 5, 2)))
    history = stored(date(2023, 11, 1), date(2024, 5, 6), holes, frozenset({date(2024, 5, 1)}))

    gaps = session_gaps("IBM", history, TARGET)

    # Wed 22nd, (Thanksgiving shut), the half-day 24th (no bar: missing like any session),
    # Mon 27th; 1 May is one the vendor has no bar for.
    assert gaps.holes == (date(2023, 11, 22), BLACK_FRIDAY, date(2023, 11, 27))
    assert gaps.after == (date(2024, 5, 7), TARGET)
    assert gaps.missing == (*gaps.holes, *gaps.after)
    assert session_gaps("IBM", None, TARGET) == SessionGaps("IBM")


def test_compact_reaches_back_the_safe_margin_of_sessions() -> None:
    assert compact_reach(TARGET) == REACH
    assert len(sessions_between(REACH, TARGET)) == COMPACT_SAFE_GAP
    older = SESSIONS[-COMPACT_SAFE_GAP - 1]
    assert by_reach([older, REACH], TARGET, full_allowed=True) == {
        Reach.FULL: [older],
        Reach.COMPACT: [REACH],
    }
    assert by_reach([older], TARGET, full_allowed=False) == {Reach.PREMIUM: [older]}


NEAR, FAR = SESSIONS[-30], SESSIONS[-120]


@pytest.mark.parametrize(
    ("latest", "holes", "policy", "denied", "size", "near", "far"),
    [
        pytest.param(TARGET, (NEAR,), "auto", False, "compact", (NEAR,), (),
                     id="a hole within reach calls compact though the newest bar is current"),
        pytest.param(TARGET, (FAR,), "auto", False, "full", (), (FAR,),
                     id="an older hole calls full where the key may"),
        pytest.param(TARGET, (FAR,), "auto", True, None, (), (FAR,),
                     id="an older hole on a key denied full costs no call"),
        pytest.param(TARGET, (FAR,), "compact", False, None, (), (FAR,),
                     id="an older hole under a forced compact costs no call"),
        pytest.param(TARGET, (FAR,), "full", True, None, (), (FAR,),
                     id="an older hole under a forced full on a denied key costs no call"),
        pytest.param(TARGET, (NEAR, FAR), "auto", True, "compact", (NEAR,), (FAR,),
                     id="a denied key still repairs what compact reaches"),
        pytest.param(date(2024, 5, 7), (FAR,), "auto", True, "compact", (), (FAR,),
                     id="the daily top-up on a denied key stays compact"),
        pytest.param(TARGET, (), "auto", False, None, (), (),
                     id="no hole and current: no call"),
    ],
)  # fmt: skip
def test_holes_plan_the_call_their_reach_needs(
    latest: date,
    holes: tuple[date, ...],
    policy: str,
    denied: bool,
    size: str | None,
    near: tuple[date, ...],
    far: tuple[date, ...],
) -> None:
    plan = plan_fetch(
        "IBM", latest_stored=latest, target=TARGET, policy=policy,  # type: ignore[arg-type]
        full_denied=denied, holes=holes,
    )  # fmt: skip
    assert (plan.output_size, plan.near, plan.far) == (size, near, far)
    assert not plan.history_limited


def test_an_answer_that_spans_a_missing_session_and_lacks_it_shows_the_vendor_has_none() -> None:
    days = SESSIONS[-100:]
    halted, before_answer = days[50], SESSIONS[-120]
    answer = Answer.of([bar(day) for day in days if day != halted])
    assert answer is not None
    gaps = SessionGaps("IBM", holes=(before_answer, halted), after=(TARGET,), stored=True)

    # Compact: only what lies between its oldest and newest bar; the newest is held.
    assert answer_lacks(answer, gaps, whole_history=False) == [halted]
    # Full: all the vendor has, so an older missing session is the vendor's too.
    assert answer_lacks(answer, gaps, whole_history=True) == [before_answer, halted]
    # A first load (nothing stored) checks every session the answer spans.
    assert answer_lacks(answer, SessionGaps("IBM"), whole_history=True) == [halted]
    whole = Answer.of([bar(day) for day in days])
    assert whole is not None and whole.complete
    assert answer_lacks(whole, SessionGaps("IBM"), whole_history=True) == []
    # A session after the answer's newest bar is not yet published, not missing at the vendor.
    late = Answer.of([bar(day) for day in days[:-1]])
    assert late is not None
    assert (
        answer_lacks(late, SessionGaps("IBM", after=(TARGET,), stored=True), whole_history=False)
        == []
    )


def test_sessions_read_as_dates_and_ranges_of_consecutive_sessions() -> None:
    days = [date(2024, 3, 27), date(2024, 3, 28), date(2024, 4, 1), date(2024, 4, 3)]
    # 28 March and 1 April are consecutive sessions: Good Friday is shut.
    assert format_days(days) == "2024-03-27..2024-04-01 (3), 2024-04-03"
    many = SESSIONS[-20:-10:2]
    assert format_days(many, shown=2) == f"{many[0]}, {many[1]}, and 3 more"
    assert format_days([]) == ""


def test_status_lines_group_the_missing_sessions_by_what_repairs_them() -> None:
    gaps = SessionGaps(
        "IBM", holes=(FAR, NEAR), after=(TARGET,), vendor_missing=frozenset({SESSIONS[-5]}),
        stored=True,
    )  # fmt: skip
    assert describe_missing(gaps, TARGET, full_allowed=False) == (
        f"IBM: 3 missing sessions: {FAR} (premium (full) history only);"
        f" {NEAR}, {TARGET} (repairable: the next daily refresh, compact)"
    )
    assert describe_missing(gaps, TARGET, full_allowed=True).startswith(
        f"IBM: 3 missing sessions: {FAR} (repairable: the next daily refresh, full);"
    )
    assert describe_vendor_missing(gaps) == (
        f"IBM: Alpha Vantage has no bar for 1 session ({SESSIONS[-5]}): remembered, not"
        " counted as missing, not fetched again"
    )
    assert describe_missing(SessionGaps("MSFT", stored=True), TARGET, full_allowed=True) == ""
    assert premium_only_message([FAR], "auto") == (
        f"1 missing session only premium (full) history reaches: {FAR}; this key gets the"
        " latest 100 bars only (outputsize=full is premium), so it stays missing and is not"
        " asked for again (docs/operations.md: missing sessions)"
    )


def test_the_check_lists_holes_between_the_first_and_newest_bar_only() -> None:
    gaps = {
        "IBM": SessionGaps("IBM", holes=(FAR,), stored=True),
        "MSFT": SessionGaps("MSFT", after=(TARGET,), stored=True),  # freshness's business
    }
    result = missing_sessions_check(gaps, ["IBM", "MSFT", "AAPL"], TARGET, full_allowed=False)
    assert (result.name, result.passed, result.checked, result.problem_count) == (
        "missing_sessions", False, 3, 1,
    )  # fmt: skip
    assert result.summary == (
        "1 of 3 symbols miss sessions between their first and newest bar (1 session): IBM (1)"
    )
    assert result.examples == (f"IBM: 1 missing: {FAR} (premium (full) history only)",)
    clean = missing_sessions_check({"MSFT": gaps["MSFT"]}, ["MSFT"], TARGET, full_allowed=True)
    assert clean.passed and clean.examples == ()


def test_an_answer_of_no_bars_is_none() -> None:
    assert Answer.of([]) is None
    assert datetime(2024, 5, 8, 4, tzinfo=UTC) == new_york_midnight(TARGET)
