"""The fake costs the benchmarks nothing: a kept-alive connection's reply is not held back
(Nagle against the client's delayed ACK), payloads are rendered once, latency is what it is
told to add."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import orjson
import requests

from stockpipe.testing import FakeAlphaVantage

QUERY = "?function=TIME_SERIES_DAILY&symbol=IBM&outputsize=compact&apikey=k"


def _median_call(get: Callable[[str], requests.Response], url: str, calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        get(url).raise_for_status()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_a_kept_alive_connection_answers_no_slower_than_a_new_connection_per_call() -> None:
    """Before: a kept-alive requests.Session took ~44 ms a reply against ~1.8 ms with a new
    connection per call (the head and the body left in two writes, the second held by Nagle
    until the client's delayed ACK). The new-connection time is this machine's baseline: a
    stall of tens of milliseconds is many times it."""
    with FakeAlphaVantage() as fake, requests.Session() as session:
        url = fake.url + QUERY
        session.get(url).raise_for_status()  # rendered once, connection open
        kept_alive = _median_call(session.get, url, 40)
        fresh = _median_call(lambda u: requests.get(u, headers={"Connection": "close"}), url, 40)
    assert kept_alive < 3 * fresh, (kept_alive, fresh)


def test_shared_payloads_serve_one_rendered_series_under_every_symbol() -> None:
    with FakeAlphaVantage(shared_payloads=True) as fake:
        answers = {
            symbol: orjson.loads(requests.get(fake.url + QUERY.replace("IBM", symbol)).content)
            for symbol in ("AAA", "ZZZZ")
        }
    assert answers["AAA"]["Meta Data"]["2. Symbol"] == "AAA"
    assert answers["ZZZZ"]["Meta Data"]["2. Symbol"] == "ZZZZ"
    assert answers["AAA"]["Time Series (Daily)"] == answers["ZZZZ"]["Time Series (Daily)"]


def test_jittered_latency_stays_within_its_bounds() -> None:
    with FakeAlphaVantage(delay=0.2, jitter=0.1) as fake:
        delays = [fake.answer(QUERY[1:]).delay for _ in range(50)]
    assert all(d is not None and 0.1 <= d <= 0.3 for d in delays)
    assert len(set(delays)) > 1
