"""Planning one symbol's call: none when up to date, else compact or full by gap, policy, key."""

from __future__ import annotations

from datetime import date

import pytest

from stockpipe.ingest.plan import COMPACT_SAFE_GAP, missing_sessions, plan_fetch
from stockpipe.market_calendar import sessions_between
from stockpipe.settings import OutputSizePolicy

TARGET = date(2024, 5, 8)  # a Wednesday
SESSIONS = sessions_between(date(2023, 1, 1), TARGET)
FITS = SESSIONS[-(COMPACT_SAFE_GAP + 1)]  # exactly COMPACT_SAFE_GAP sessions missing
TOO_OLD = SESSIONS[-(COMPACT_SAFE_GAP + 2)]


def test_the_gap_counts_sessions_after_the_latest_bar_skipping_weekends_and_holidays() -> None:
    assert missing_sessions(date(2024, 5, 3), TARGET) == 3  # Mon, Tue, Wed
    assert missing_sessions(date(2024, 3, 28), date(2024, 4, 1)) == 1  # Good Friday is shut
    assert missing_sessions(FITS, TARGET) == COMPACT_SAFE_GAP


@pytest.mark.parametrize(
    ("latest", "policy", "denied", "size", "limited"),
    [
        pytest.param(date(2024, 5, 7), "auto", False, "compact", False,
                     id="a short gap is filled with compact"),
        pytest.param(FITS, "auto", False, "compact", False,
                     id="a gap just inside the safe margin still takes compact"),
        pytest.param(TOO_OLD, "auto", False, "full", False,
                     id="a gap beyond the safe margin takes full"),
        pytest.param(None, "auto", False, "full", False,
                     id="an empty history takes full"),
        pytest.param(None, "auto", True, "compact", True,
                     id="an empty history on a key denied full takes compact and is limited"),
        pytest.param(TOO_OLD, "auto", True, "compact", True,
                     id="a long gap on a key denied full takes compact and is limited"),
        pytest.param(None, "compact", False, "compact", False,
                     id="a forced compact is obeyed"),
        pytest.param(date(2024, 5, 7), "full", False, "full", False,
                     id="a forced full is obeyed"),
        pytest.param(date(2024, 5, 7), "full", True, "full", False,
                     id="a forced full is tried even on a key denied before"),
    ],
)  # fmt: skip
def test_the_output_size_follows_gap_policy_and_key(
    latest: date | None, policy: OutputSizePolicy, denied: bool, size: str, limited: bool
) -> None:
    plan = plan_fetch("IBM", latest_stored=latest, target=TARGET, policy=policy, full_denied=denied)
    assert plan.needs_call
    assert (plan.output_size, plan.history_limited) == (size, limited)


@pytest.mark.parametrize("latest", [TARGET, date(2024, 5, 9)], ids=["on target", "past target"])
def test_no_call_is_planned_when_the_latest_session_is_stored(latest: date) -> None:
    plan = plan_fetch("IBM", latest_stored=latest, target=TARGET, policy="full", full_denied=False)
    assert not plan.needs_call
    assert plan.output_size is None


@pytest.mark.parametrize(
    ("latest", "policy", "denied", "size", "limited"),
    [
        pytest.param(TARGET, "auto", False, "full", False,
                     id="an up-to-date series marked for a refetch takes full"),
        pytest.param(date(2024, 5, 7), "auto", False, "full", False,
                     id="a short gap marked for a refetch takes full, not compact"),
        pytest.param(TARGET, "auto", True, "compact", True,
                     id="a key denied full refetches what compact reaches, limited"),
        pytest.param(TARGET, "compact", False, "compact", False,
                     id="a forced compact is obeyed for a refetch too"),
    ],
)  # fmt: skip
def test_a_refetch_asks_for_the_whole_history_even_when_up_to_date(
    latest: date, policy: OutputSizePolicy, denied: bool, size: str, limited: bool
) -> None:
    plan = plan_fetch(
        "IBM", latest_stored=latest, target=TARGET, policy=policy, full_denied=denied, refetch=True
    )
    assert (plan.output_size, plan.history_limited) == (size, limited)
