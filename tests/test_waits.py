"""Waits announced by the call gate: a display observing them sees the notable ones; without a
display, a long one is logged at INFO (an orchestrator's run log says why a step sat still)."""

from __future__ import annotations

import logging

import pytest

from stockpipe.waits import Wait, announce_wait, observing_waits

PER_MINUTE = "the API's per-minute limit (API_CALLS_PER_MINUTE)"


def test_a_display_sees_notable_waits_only() -> None:
    seen: list[Wait] = []
    with observing_waits(seen.append):
        announce_wait(Wait(0.4, "the spacing between calls (API_POLITE_DELAY_SEC)", "IBM"))
        announce_wait(Wait(44.2, PER_MINUTE, "MSFT"))
    announce_wait(Wait(30, PER_MINUTE, "KO"))  # after the display closed
    assert [w.describe() for w in seen] == [f"MSFT: waiting 44 s for {PER_MINUTE}"]


def test_without_a_display_a_long_wait_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="stockpipe.waits"):
        announce_wait(Wait(12, "the spacing between calls (API_POLITE_DELAY_SEC)", "IBM"))
        announce_wait(Wait(44.2, PER_MINUTE, "MSFT"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "IBM: waiting 12 s for the spacing between calls (API_POLITE_DELAY_SEC)"),
        ("INFO", f"MSFT: waiting 44 s for {PER_MINUTE}"),
    ]
