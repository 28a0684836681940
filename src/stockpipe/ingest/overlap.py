"""Run a slow producer one item ahead of its consumer: fetch symbol N+1 while N is stored.

One background thread and a bounded queue, so at most `depth` produced items wait at any
time: memory stays per-item however long the list is.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

A = TypeVar("A")
B = TypeVar("B")

_POLL_SEC = 0.2  # how often a blocked producer checks whether the consumer went away


@dataclass(frozen=True, slots=True)
class _Raised:
    error: BaseException


class _End:
    pass


@dataclass(slots=True)
class _Box(Generic[B]):
    value: B


def overlapped(
    items: Sequence[A],
    produce: Callable[[A], B],
    *,
    depth: int = 1,
    name: str = "stockpipe-producer",
) -> Generator[B, None, None]:
    """Yield produce(item) for each item, in order, computed in a background thread that runs
    ahead by at most `depth` items. An exception in `produce` is re-raised here, at its turn.
    Closing the iterator early stops the producer after its current item."""
    channel: queue.Queue[_Box[B] | _Raised | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: _Box[B] | _Raised | _End) -> bool:
        while not stop.is_set():
            try:
                channel.put(entry, timeout=_POLL_SEC)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if stop.is_set() or not put(_Box(produce(item))):
                    return
        except BaseException as error:
            put(_Raised(error))
            return
        put(_End())

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            entry = channel.get()
            if isinstance(entry, _End):
                return
            if isinstance(entry, _Raised):
                raise entry.error
            yield entry.value
    finally:
        stop.set()
        thread.join()
