"""Run a slow producer ahead of its consumer: fetch the next symbols while one is stored.

`overlapped`: one background thread and a bounded queue, so at most `depth` produced items wait
at any time: memory stays per-item however long the list is. `fanned_out`: up to N threads
(API_MAX_IN_FLIGHT requests in flight), results in the order they finish, at most N waiting;
`fanned_out_batches` hands over every result ready at once (a consumer that stores them in
one transaction catches up instead of falling further behind).

No wait here is unbounded: with `item_timeout`, an item the producer has not delivered within
that time is given up (`on_timeout` stands in for its value), the stuck thread is abandoned
(a daemon: it cannot hold the process) and a fresh one carries on with the next items. The
producer's own timeouts should fire long before: this is the backstop that guarantees a run
ends whatever a library below does.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

A = TypeVar("A")
B = TypeVar("B")

logger = logging.getLogger(__name__)

_POLL_SEC = 0.2  # how often a blocked producer checks whether the consumer went away


@dataclass(frozen=True, slots=True)
class _Raised:
    error: BaseException


class _End:
    pass


@dataclass(slots=True)
class _Box(Generic[B]):
    value: B


class _Producer(Generic[A, B]):
    """One background thread producing `items` into its own channel until told to stop."""

    def __init__(
        self, items: Sequence[A], produce: Callable[[A], B], depth: int, name: str
    ) -> None:
        self.channel: queue.Queue[_Box[B] | _Raised | _End] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self._items, self._produce = items, produce
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _put(self, entry: _Box[B] | _Raised | _End) -> bool:
        while not self.stop.is_set():
            try:
                self.channel.put(entry, timeout=_POLL_SEC)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._items:
                if self.stop.is_set() or not self._put(_Box(self._produce(item))):
                    return
        except BaseException as error:
            self._put(_Raised(error))
            return
        self._put(_End())


def overlapped(
    items: Sequence[A],
    produce: Callable[[A], B],
    *,
    depth: int = 1,
    name: str = "stockpipe-producer",
    item_timeout: float | None = None,
    on_timeout: Callable[[A, float], B] | None = None,
) -> Generator[B, None, None]:
    """Yield produce(item) for each item, in order, computed in a background thread that runs
    ahead by at most `depth` items. An exception in `produce` is re-raised here, at its turn.
    Closing the iterator early stops the producer after its current item.

    With `item_timeout` (seconds) and `on_timeout`, an item not delivered within that time
    after the consumer asked for it yields on_timeout(item, item_timeout) instead, and the
    remaining items go to a new producer thread."""
    if (item_timeout is None) != (on_timeout is None):
        raise ValueError("item_timeout and on_timeout go together")
    start = 0
    producer = _Producer(items, produce, depth, name)
    try:
        while True:
            for index in range(start, len(items) + 1):
                try:
                    entry = producer.channel.get(timeout=item_timeout)
                except queue.Empty:
                    if index >= len(items):
                        return  # every item is delivered; only the end marker is late
                    assert on_timeout is not None and item_timeout is not None
                    logger.error(
                        "%s: no result within %.0fs; giving it up and going on with the rest",
                        items[index],
                        item_timeout,
                    )
                    producer.stop.set()  # the stuck thread drops whatever it produces later
                    yield on_timeout(items[index], item_timeout)
                    start = index + 1
                    producer = _Producer(items[start:], produce, depth, name)
                    break
                if isinstance(entry, _End):
                    return
                if isinstance(entry, _Raised):
                    raise entry.error
                yield entry.value
            else:
                return
    finally:
        producer.stop.set()
        producer.thread.join(timeout=item_timeout)


_DONE = object()


def _ready(
    results: queue.Queue[tuple[int, _Box[B] | _Raised]],
    first: tuple[int, _Box[B] | _Raised],
    delivered: set[int],
    most: int,
) -> tuple[list[B], _Raised | None]:
    """`first` and the results already waiting behind it, up to `most` or an error."""
    batch: list[B] = []
    index, entry = first
    while True:
        delivered.add(index)
        if isinstance(entry, _Raised):
            return batch, entry
        batch.append(entry.value)
        if len(batch) >= most:
            return batch, None
        try:
            index, entry = results.get_nowait()
        except queue.Empty:
            return batch, None


def fanned_out(
    items: Sequence[A],
    produce: Callable[[A], B],
    *,
    workers: int,
    name: str = "stockpipe-producer",
    item_timeout: float | None = None,
    on_timeout: Callable[[A, float], B] | None = None,
) -> Generator[B, None, None]:
    """Yield produce(item) for each item, computed by up to `workers` background threads, in
    the order they finish (one worker: `overlapped`, in order). At most `workers` results wait
    for the consumer, so a slow consumer (storing) slows the producers (fetching) down and
    memory stays bounded by the worker count. An exception in `produce` is re-raised here.

    With `item_timeout`: when no result arrives for that long, every item not delivered yet
    yields on_timeout(item, item_timeout) and the workers are abandoned (daemons)."""
    batches = fanned_out_batches(
        items, produce, workers=workers, name=name, item_timeout=item_timeout,
        on_timeout=on_timeout,
    )  # fmt: skip
    try:
        for batch in batches:
            yield from batch
    finally:
        batches.close()


def fanned_out_batches(
    items: Sequence[A],
    produce: Callable[[A], B],
    *,
    workers: int,
    name: str = "stockpipe-producer",
    item_timeout: float | None = None,
    on_timeout: Callable[[A, float], B] | None = None,
) -> Generator[list[B], None, None]:
    """`fanned_out`, handing the consumer every result that is ready at once: it waits for the
    first, then takes those already waiting too (at most 2 x `workers`: the ones queued and
    those finished meanwhile). A consumer that keeps up gets them one by one, as they come; one
    that falls behind (storing slower than fetching) gets them in batches it can store in one
    transaction, so it catches up, and the producers still wait for it: memory stays bounded
    by the worker count. An error in `produce` ends a batch and is raised at its turn."""
    if workers <= 1:
        for value in overlapped(
            items, produce, name=name, item_timeout=item_timeout, on_timeout=on_timeout
        ):
            yield [value]
        return
    if (item_timeout is None) != (on_timeout is None):
        raise ValueError("item_timeout and on_timeout go together")
    feed, feed_lock = iter(enumerate(items)), threading.Lock()
    results: queue.Queue[tuple[int, _Box[B] | _Raised]] = queue.Queue(maxsize=workers)
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with feed_lock:
                index, item = next(feed, (-1, _DONE))
            if item is _DONE:
                return
            try:
                entry: _Box[B] | _Raised = _Box(produce(item))  # type: ignore[arg-type]
            except BaseException as error:
                entry = _Raised(error)
            while not stop.is_set():
                try:
                    results.put((index, entry), timeout=_POLL_SEC)
                    break
                except queue.Full:
                    continue

    threads = [
        threading.Thread(target=work, name=f"{name}-{n}", daemon=True)
        for n in range(min(workers, len(items)))
    ]
    for thread in threads:
        thread.start()
    delivered: set[int] = set()
    most = 2 * workers
    try:
        while len(delivered) < len(items):
            try:
                index, entry = results.get(timeout=item_timeout)
            except queue.Empty:
                assert on_timeout is not None and item_timeout is not None
                stop.set()
                late = [items[i] for i in range(len(items)) if i not in delivered]
                logger.error(
                    "no result within %.0fs; giving up %d items: %s",
                    item_timeout,
                    len(late),
                    ", ".join(str(item) for item in late[:10]),
                )
                yield [on_timeout(item, item_timeout) for item in late]
                return
            batch, raised = _ready(results, (index, entry), delivered, most)
            if batch:
                yield batch
            if raised is not None:
                raise raised.error
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=item_timeout)
