"""The backfill bar's text keeps a wait in front of the last unit's line until the wait ends.

Units run on worker threads (API_MAX_IN_FLIGHT), so the next unit's wait can be announced
before the line of the unit before it reaches the display; the wait must not be hidden by it
(a fresh-clone CI run once showed no wait at all for a 62 s pause)."""

from __future__ import annotations

from stockpipe.cli.backfill_cmd import BackfillStatusLine
from stockpipe.waits import Wait

PER_MINUTE = "the API's per-minute limit (API_CALLS_PER_MINUTE)"


def test_a_unit_line_arriving_after_a_wait_keeps_the_wait_in_front() -> None:
    line = BackfillStatusLine()
    line.waiting(Wait(62.0, PER_MINUTE, "MSFT"), now=100.0)
    line.unit("IBM weekly full: done | 1/2 units done")
    assert line.text(now=101.0) == (
        "MSFT: waiting 62 s for the API's per-minute limit (API_CALLS_PER_MINUTE)"
        " | IBM weekly full: done | 1/2 units done"
    )


def test_a_wait_that_has_ended_leaves_the_line_alone() -> None:
    line = BackfillStatusLine()
    line.waiting(Wait(62.0, PER_MINUTE, "MSFT"), now=100.0)
    line.unit("MSFT weekly full: done | 2/2 units done")
    assert line.text(now=162.0) == "MSFT weekly full: done | 2/2 units done"


def test_before_any_unit_the_wait_is_the_whole_line() -> None:
    line = BackfillStatusLine()
    assert line.text(now=0.0) == ""
    line.waiting(Wait(12.0, PER_MINUTE, "IBM"), now=0.0)
    assert line.text(now=1.0) == (
        "IBM: waiting 12 s for the API's per-minute limit (API_CALLS_PER_MINUTE)"
    )
