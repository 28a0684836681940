"""The fake Alpha Vantage server: limits, scheduling of faults, HTTP control, standalone run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import pytest
import requests

from stockpipe import processes
from stockpipe.alphavantage import RateLimited, SeriesRequest
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.alphavantage.helpers import client_for


def _get(fake: FakeAlphaVantage, symbol: str = "IBM", **params: str) -> requests.Response:
    query = {"function": "TIME_SERIES_DAILY", "symbol": symbol, "apikey": fake.api_key, **params}
    return requests.get(fake.url, params=query, timeout=10)


def test_the_per_minute_limit_answers_200_with_the_note(fake_av: FakeAlphaVantage) -> None:
    fake_av.set_limits(per_minute=2)
    answers = [_get(fake_av) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "Note" in answers[2].json() and "Meta Data" in answers[1].json()
    assert [c.outcome for c in fake_av.calls()] == ["data", "data", "rate_limit_minute"]


def test_the_per_day_limit_is_a_day_scoped_rate_limit(fake_av: FakeAlphaVantage) -> None:
    fake_av.set_limits(per_day=1)
    with client_for(fake_av, max_retries=3) as client:
        client.fetch(SeriesRequest("IBM"))
        with pytest.raises(RateLimited) as caught:
            client.fetch(SeriesRequest("IBM"))
    assert caught.value.scope == "day"
    assert len(fake_av.calls()) == 2


def test_a_fault_on_the_nth_call_hits_only_that_call(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_500, on_call=2)
    statuses = [_get(fake_av).status_code for _ in range(3)]
    assert statuses == [200, 500, 200]


def test_a_fault_for_a_symbol_spares_other_symbols(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.INVALID_CALL, symbol="MSFT", times=1)
    assert "Error Message" in _get(fake_av, "MSFT").json()
    assert "Meta Data" in _get(fake_av, "IBM").json()
    assert "Meta Data" in _get(fake_av, "MSFT").json()


def test_symbols_starting_with_invalid_or_configured_are_invalid_calls(
    fake_av: FakeAlphaVantage,
) -> None:
    fake_av.configure(invalid_symbols=["NOPE"])
    assert "Invalid API call" in _get(fake_av, "INVALID1").json()["Error Message"]
    assert "Invalid API call" in _get(fake_av, "NOPE").json()["Error Message"]


def test_generated_bars_are_stable_when_the_end_date_moves(fake_av: FakeAlphaVantage) -> None:
    fake_av.configure(end_date=date(2024, 5, 1))
    earlier = _get(fake_av).json()["Time Series (Daily)"]
    fake_av.configure(end_date=date(2024, 5, 3))
    later = _get(fake_av).json()["Time Series (Daily)"]
    assert list(later)[:3] == ["2024-05-03", "2024-05-02", "2024-05-01"]
    assert later["2024-04-30"] == earlier["2024-04-30"]
    assert later["2024-05-01"]["1. open"].count(".") == 1
    assert len(later["2024-05-01"]["1. open"].split(".")[1]) == 4


def test_the_call_log_records_parameters_and_outcome(fake_av: FakeAlphaVantage) -> None:
    _get(fake_av, outputsize="full", datatype="csv")
    (call,) = fake_av.calls()
    assert (call.number, call.function, call.symbol) == (1, "TIME_SERIES_DAILY", "IBM")
    assert (call.outputsize, call.datatype, call.outcome) == ("full", "csv", "data")


def test_reset_forgets_faults_limits_and_calls(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.HTTP_500)
    fake_av.set_limits(per_minute=0)
    _get(fake_av)
    fake_av.reset()
    assert fake_av.calls() == []
    assert _get(fake_av).status_code == 200


def test_the_http_control_endpoints_steer_the_server(fake_av: FakeAlphaVantage) -> None:
    control = fake_av.url.replace("/query", "/_control")
    fault = {"fault": "http_503", "times": 1, "retry_after": 3}
    assert requests.post(f"{control}/fault", json=fault, timeout=5).status_code == 200
    series = {"2024-05-03": {"1. open": "1.0000", "2. high": "2.0000", "3. low": "0.5000",
                             "4. close": "1.5000", "5. volume": "10"}}  # fmt: skip
    body = {"symbol": "ZZZ", "function": "TIME_SERIES_DAILY", "series": series}
    assert requests.post(f"{control}/series", json=body, timeout=5).status_code == 200
    first = _get(fake_av, "ZZZ")
    assert (first.status_code, first.headers["Retry-After"]) == (503, "3")
    assert _get(fake_av, "ZZZ").json()["Time Series (Daily)"] == series
    calls = requests.get(f"{control}/calls", timeout=5).json()
    assert [c["outcome"] for c in calls] == ["http_503", "data"]
    bad = requests.post(f"{control}/fault", json={"fault": "no_such"}, timeout=5)
    assert bad.status_code == 400
    assert requests.post(f"{control}/reset", json={}, timeout=5).status_code == 200
    assert fake_av.calls() == []


@pytest.fixture
def standalone() -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "stockpipe.testing.fake_alphavantage", "--port", "0"]
    process = processes.spawn(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()  # bounded by pytest-timeout
        yield process, line
    finally:
        processes.stop(process, grace=10)
        process.stdout.close()


def test_the_server_runs_standalone_and_prints_its_url(
    standalone: tuple[subprocess.Popen[str], str],
) -> None:
    _, line = standalone
    assert line.startswith("ALPHAVANTAGE_BASE_URL=http://127.0.0.1:")
    url = line.split("=", 1)[1]
    control = url.replace("/query", "/_control")
    requests.post(
        f"{control}/fault", json={"fault": "rate_limit_day"}, timeout=5
    ).raise_for_status()
    params = {"function": "TIME_SERIES_DAILY", "symbol": "IBM", "apikey": "any-key"}
    answer = requests.get(url, params=params, timeout=30).json()
    assert "25 requests per day" in answer["Information"]


def test_prerendered_answers_are_byte_for_byte_the_generated_ones(
    fake_av: FakeAlphaVantage,
) -> None:
    generated = {s: _get(fake_av, s, outputsize="full").content for s in ("IBM", "MSFT")}
    compact = _get(fake_av, "IBM", outputsize="compact").content
    control = fake_av.url.replace("/query", "/_control")
    try:
        answer = requests.post(
            f"{control}/prerender", json={"symbols": ["IBM", "MSFT"]}, timeout=30
        )
        assert answer.status_code == 200
        # Held in memory, one answer per symbol (else equal bytes would prove nothing).
        rendered = len(fake_av._prerendered)
        served = {s: _get(fake_av, s, outputsize="full").content for s in ("IBM", "MSFT")}
        # Only the pre-rendered shape comes from memory; any other is generated as before.
        served_compact = _get(fake_av, "IBM", outputsize="compact").content
        fake_av.prerender([])
        after_drop = _get(fake_av, "IBM", outputsize="full").content
    finally:
        fake_av.prerender([])  # kept across reset(): never leak it into other tests
    assert rendered == 2
    assert served == generated
    assert served_compact == compact
    assert after_drop == generated["IBM"]
    assert len(generated["IBM"]) > 1_000 and generated["IBM"] != generated["MSFT"]
    assert [c.outcome for c in fake_av.calls()][-4:] == ["data"] * 4
