"""Transient outcomes are retried with backoff; permanent ones raise after exactly one call."""

from __future__ import annotations

import time

import pytest

from stockpipe.alphavantage import (
    AlphaVantageClient,
    BudgetExhausted,
    InvalidApiKey,
    NetworkError,
    Outcome,
    PremiumParameter,
    RateLimited,
    SeriesRequest,
    ServerError,
)
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.alphavantage.helpers import RecordingGate, RecordingSleep, client_for

IBM = SeriesRequest("IBM")


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.RATE_LIMIT_MINUTE, id="a per-minute rate limit"),
        pytest.param(Fault.UNKNOWN_NOTICE, id="an unknown notice"),
        pytest.param(Fault.HTTP_503, id="an HTTP 503"),
        pytest.param(Fault.CONNECTION_RESET, id="a connection reset"),
        pytest.param(Fault.TRUNCATED_JSON, id="a truncated body"),
    ],
)
def test_a_transient_failure_is_retried_until_data_arrives(
    fake_av: FakeAlphaVantage, fault: Fault
) -> None:
    fake_av.inject(fault, times=2)
    sleep = RecordingSleep()
    with client_for(fake_av, max_retries=4, sleep=sleep) as client:
        series = client.fetch(IBM)
    assert len(series.bars) == 100
    assert [call.outcome for call in fake_av.calls()] == [fault.value, fault.value, "data"]
    assert client.calls_made == 3
    assert len(sleep.waits) == 2


def test_backoff_grows_exponentially_with_full_jitter(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_500)
    sleep = RecordingSleep()
    client = client_for(fake_av, max_retries=5, backoff_base=1.0, backoff_cap=8.0, sleep=sleep)
    with client, pytest.raises(ServerError):
        client.fetch(IBM)
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(sleep.waits) == 5
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleep.waits, ceilings, strict=True))


def test_exhausted_retries_raise_the_last_typed_error(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_500)
    with client_for(fake_av, max_retries=2) as client, pytest.raises(ServerError, match="HTTP 500"):
        client.fetch(IBM)
    assert len(fake_av.calls()) == 3
    assert client.calls_made == 3


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        pytest.param(Fault.INVALID_KEY, InvalidApiKey, id="an invalid key"),
        pytest.param(Fault.PREMIUM_PARAMETER, PremiumParameter, id="a premium parameter"),
        pytest.param(Fault.RATE_LIMIT_DAY, RateLimited, id="the daily rate limit"),
    ],
)
def test_a_permanent_failure_is_not_retried(
    fake_av: FakeAlphaVantage, fault: Fault, error_type: type[Exception]
) -> None:
    fake_av.inject(fault)
    sleep = RecordingSleep()
    with client_for(fake_av, max_retries=4, sleep=sleep) as client, pytest.raises(error_type):
        client.fetch(SeriesRequest("IBM", outputsize="full"))
    assert len(fake_av.calls()) == 1
    assert sleep.waits == []


def test_the_daily_rate_limit_says_scope_day(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.RATE_LIMIT_DAY)
    with client_for(fake_av, max_retries=4) as client, pytest.raises(RateLimited) as caught:
        client.fetch(IBM)
    assert caught.value.scope == "day"


def test_retry_after_is_honoured_exactly(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_429, times=1, retry_after=7)
    sleep = RecordingSleep()
    with client_for(fake_av, max_retries=3, sleep=sleep) as client:
        client.fetch(IBM)
    assert sleep.waits == [7.0]


def test_a_retry_after_beyond_the_cap_gives_up_at_once(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_503, retry_after=600)
    sleep = RecordingSleep()
    client = client_for(fake_av, max_retries=3, backoff_cap=60, sleep=sleep)
    with client, pytest.raises(ServerError) as caught:
        client.fetch(IBM)
    assert caught.value.retry_after == 600
    assert sleep.waits == []
    assert len(fake_av.calls()) == 1


def test_the_real_clock_waits_between_attempts(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_500, times=1, retry_after=0.2)
    client = AlphaVantageClient(fake_av.api_key, fake_av.url, max_retries=1, backoff_base=0.01)
    started = time.monotonic()
    with client:
        client.fetch(IBM)
    first, second = fake_av.calls()
    assert second.time - first.time >= 0.2
    assert time.monotonic() - started >= 0.2


def test_a_timeout_is_retried_and_the_late_answer_is_ignored(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.TIMEOUT, times=1, delay=5)
    with client_for(fake_av, max_retries=1, read_timeout=0.3) as client:
        assert len(client.fetch(IBM).bars) == 100
    assert [call.outcome for call in fake_av.calls()] == ["timeout", "data"]


def test_the_gate_is_asked_before_and_told_after_every_attempt(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.RATE_LIMIT_MINUTE, times=1)
    fake_av.inject(Fault.HTTP_500, times=1)
    gate = RecordingGate()
    with client_for(fake_av, max_retries=3, gate=gate) as client:
        client.fetch(IBM)
    assert gate.acquired == 3
    assert gate.reported == [Outcome.RATE_LIMITED, Outcome.SERVER_ERROR, Outcome.DATA]


def test_a_spent_budget_stops_before_any_http_call(fake_av: FakeAlphaVantage) -> None:
    gate = RecordingGate(budget=0)
    with client_for(fake_av, max_retries=3, gate=gate) as client, pytest.raises(BudgetExhausted):
        client.fetch(IBM)
    assert fake_av.calls() == []
    assert client.calls_made == 0


def test_a_budget_running_out_mid_retry_is_not_retried(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_500)
    gate = RecordingGate(budget=2)
    with client_for(fake_av, max_retries=5, gate=gate) as client, pytest.raises(BudgetExhausted):
        client.fetch(IBM)
    assert len(fake_av.calls()) == 2


def test_network_errors_exhaust_into_network_error(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.CONNECTION_DROP)
    with client_for(fake_av, max_retries=1) as client, pytest.raises(NetworkError):
        client.fetch(IBM)
    assert len(fake_av.calls()) == 2
