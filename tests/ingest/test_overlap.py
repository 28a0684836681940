"""The producer thread behind ingest runs: order kept, one item ahead, errors at their turn."""

from __future__ import annotations

import threading

import pytest

from stockpipe.ingest.overlap import fanned_out_batches, overlapped


def test_results_come_back_in_the_order_of_the_items() -> None:
    assert list(overlapped(range(20), lambda n: n * n)) == [n * n for n in range(20)]


def test_the_next_item_is_produced_while_the_current_one_is_consumed() -> None:
    second_produced = threading.Event()

    def produce(n: int) -> int:
        if n == 2:
            second_produced.set()
        return n

    seen = []
    for value in overlapped([1, 2], produce):
        if value == 1:
            # Still holding item 1: item 2 must get produced meanwhile.
            assert second_produced.wait(timeout=10)
        seen.append(value)
    assert seen == [1, 2]


def test_an_error_in_the_producer_is_raised_at_its_turn() -> None:
    def produce(n: int) -> int:
        if n == 2:
            raise ValueError("item 2 is bad")
        return n

    seen = []
    with pytest.raises(ValueError, match="item 2 is bad"):
        for value in overlapped([1, 2, 3], produce):
            seen.append(value)
    assert seen == [1]


def test_stopping_early_stops_the_producer_within_the_lookahead() -> None:
    produced: list[int] = []

    def produce(n: int) -> int:
        produced.append(n)
        return n

    results = overlapped(range(100), produce, depth=1)
    assert next(results) == 0
    results.close()
    # At most: the item consumed, one queued, one waiting to be queued.
    assert produced == list(range(len(produced)))
    assert len(produced) <= 3


@pytest.mark.timeout(60)
def test_an_item_that_never_finishes_is_given_up_and_the_rest_still_comes() -> None:
    # A fetch blocked for ever (before the whole-reply deadline: a trickling reply) held the
    # run: the consumer waited on the producer without a timeout.
    unblock = threading.Event()

    def produce(n: int) -> str:
        if n == 2:
            unblock.wait()
        return f"done {n}"

    try:
        results = list(
            overlapped(
                [1, 2, 3],
                produce,
                item_timeout=0.5,
                on_timeout=lambda n, waited: f"gave up {n} after {waited}s",
            )
        )
    finally:
        unblock.set()
    assert results == ["done 1", "gave up 2 after 0.5s", "done 3"]


def test_a_timeout_without_its_stand_in_is_refused() -> None:
    with pytest.raises(ValueError, match="item_timeout and on_timeout go together"):
        list(overlapped([1], lambda n: n, item_timeout=1.0))


def test_results_ready_together_are_handed_over_together_and_the_workers_wait() -> None:
    """fanned_out_batches: while the consumer holds a batch, the workers fill the bounded
    queue and stop (at most `workers` in hand plus `workers` waiting: memory bounded by the
    in-flight count); the consumer then gets everything waiting in one batch of at most
    2 x workers, and every item exactly once."""
    workers = 3
    produced: list[int] = []
    lock = threading.Lock()
    stalled = threading.Condition(lock)

    def produce(n: int) -> int:
        with stalled:
            produced.append(n)
            stalled.notify_all()
        return n

    batches = fanned_out_batches(range(40), produce, workers=workers)
    first = next(batches)
    # The consumer is busy: the workers run ahead, at least two results wait (each worker
    # holds at most one it could not queue yet).
    with stalled:
        assert stalled.wait_for(lambda: len(produced) >= len(first) + workers + 2, timeout=10)
    # Bounded: the queue's `workers`, one finished item per blocked worker, and the batch held.
    with lock:
        assert len(produced) <= len(first) + 2 * workers
    second = next(batches)
    assert 1 < len(second) <= 2 * workers
    rest = [value for batch in batches for value in batch]
    assert sorted(first + second + rest) == list(range(40))


def test_a_producer_error_ends_its_batch_and_is_raised_at_its_turn() -> None:
    def produce(n: int) -> int:
        if n == 5:
            raise ValueError("item 5 is bad")
        return n

    seen: list[int] = []
    with pytest.raises(ValueError, match="item 5 is bad"):
        for batch in fanned_out_batches(range(10), produce, workers=2):
            seen.extend(batch)
    assert 5 not in seen
