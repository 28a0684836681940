"""Every outcome Alpha Vantage can produce is classified into its typed error (JSON and CSV)."""

from __future__ import annotations

import pytest

from stockpipe.alphavantage import (
    ActionFunction,
    ActionRequest,
    AlphaVantageClient,
    AlphaVantageError,
    DemoKeyMisuse,
    EmptySeries,
    Function,
    InvalidApiKey,
    InvalidCall,
    MalformedResponse,
    NetworkError,
    Outcome,
    PremiumEndpoint,
    PremiumParameter,
    RateLimited,
    SeriesRequest,
    ServerError,
    classify_response,
)
from stockpipe.alphavantage.classify import classify_notice, parse_retry_after
from stockpipe.testing import FakeAlphaVantage, Fault
from stockpipe.testing import faults as texts
from tests.alphavantage.helpers import client_for

# fault -> (error type, outcome, retryable, message fragment for json, for csv)
CASES = [
    pytest.param(Fault.RATE_LIMIT_MINUTE, RateLimited, Outcome.RATE_LIMITED, True, "per minute", "per minute", id="the old per-minute Note is a retryable rate limit"),  # noqa: E501
    pytest.param(Fault.RATE_LIMIT_DAY, RateLimited, Outcome.RATE_LIMITED, False, "daily call limit", "daily call limit", id="the 25-per-day Information is a final rate limit for today"),  # noqa: E501
    pytest.param(Fault.RATE_LIMIT_SPREAD, RateLimited, Outcome.RATE_LIMITED, True, "per minute", "per minute", id="the 2025 spreading-out Information is a retryable rate limit"),  # noqa: E501
    pytest.param(Fault.UNKNOWN_NOTICE, RateLimited, Outcome.RATE_LIMITED, True, "unrecognised notice", "unrecognised notice", id="an unknown Information is treated as a rate limit"),  # noqa: E501
    pytest.param(Fault.PREMIUM_ENDPOINT, PremiumEndpoint, Outcome.PREMIUM_ENDPOINT, False, "is a premium endpoint", "is a premium endpoint", id="a premium endpoint is permanent"),  # noqa: E501
    pytest.param(Fault.PREMIUM_PARAMETER, PremiumParameter, Outcome.PREMIUM_PARAMETER, False, "outputsize=full needs a premium key", "use compact", id="outputsize full on a free key is a permanent premium parameter"),  # noqa: E501
    pytest.param(Fault.DEMO_KEY, DemoKeyMisuse, Outcome.DEMO_KEY, False, "demo API key only serves IBM", "set API_KEY", id="the demo key for another symbol is permanent"),  # noqa: E501
    pytest.param(Fault.INVALID_KEY, InvalidApiKey, Outcome.INVALID_KEY, False, "invalid or missing", "set API_KEY", id="an invalid key is permanent"),  # noqa: E501
    pytest.param(Fault.INVALID_CALL, InvalidCall, Outcome.INVALID_CALL, False, "invalid API call", "check the symbol", id="an invalid call is permanent"),  # noqa: E501
    pytest.param(Fault.HTTP_429, RateLimited, Outcome.RATE_LIMITED, True, "HTTP 429", "HTTP 429", id="HTTP 429 is a retryable rate limit"),  # noqa: E501
    pytest.param(Fault.HTTP_500, ServerError, Outcome.SERVER_ERROR, True, "HTTP 500", "HTTP 500", id="HTTP 500 is a retryable server error"),  # noqa: E501
    pytest.param(Fault.HTTP_503, ServerError, Outcome.SERVER_ERROR, True, "HTTP 503", "HTTP 503", id="HTTP 503 is a retryable server error"),  # noqa: E501
    pytest.param(Fault.TIMEOUT, NetworkError, Outcome.NETWORK_ERROR, True, "(timeout)", "(timeout)", id="a timeout is a retryable network error"),  # noqa: E501
    pytest.param(Fault.CONNECTION_RESET, NetworkError, Outcome.NETWORK_ERROR, True, "network error", "network error", id="a connection reset is a retryable network error"),  # noqa: E501
    pytest.param(Fault.CONNECTION_DROP, NetworkError, Outcome.NETWORK_ERROR, True, "network error", "network error", id="a dropped connection is a retryable network error"),  # noqa: E501
    pytest.param(Fault.TRUNCATED_JSON, MalformedResponse, Outcome.MALFORMED, True, "invalid JSON", "invalid JSON", id="truncated JSON is a retryable malformed body"),  # noqa: E501
    pytest.param(Fault.HTML_PAGE, MalformedResponse, Outcome.MALFORMED, True, "HTML page", "HTML page", id="an HTML page is a retryable malformed body"),  # noqa: E501
    pytest.param(Fault.EMPTY_BODY, MalformedResponse, Outcome.MALFORMED, True, "empty body", "empty body", id="an empty body is a retryable malformed body"),  # noqa: E501
    pytest.param(Fault.WRONG_KEYS, MalformedResponse, Outcome.MALFORMED, False, "lacks 'Time Series (Daily)'", "CSV header lacks", id="wrong top-level keys are a permanent malformed body"),  # noqa: E501
    pytest.param(Fault.WRONG_SYMBOL, MalformedResponse, Outcome.MALFORMED, False, "response is for MSFT", "response is for MSFT", id="a body for another symbol is a permanent malformed body"),  # noqa: E501
    pytest.param(Fault.EMPTY_SERIES, EmptySeries, Outcome.MALFORMED, False, "holds no bars", "header but no bars", id="an empty series is malformed, never an empty success"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize(
    ("fault", "error_type", "outcome", "retryable", "json_text", "csv_text"), CASES
)
def test_every_fault_is_classified_into_its_typed_error(
    fake_av: FakeAlphaVantage,
    fault: Fault,
    error_type: type[AlphaVantageError],
    outcome: Outcome,
    retryable: bool,
    json_text: str,
    csv_text: str,
    datatype: str,
) -> None:
    fake_av.inject(fault, delay=5)
    outputsize = "full" if fault is Fault.PREMIUM_PARAMETER else None
    request = SeriesRequest("IBM", outputsize=outputsize, datatype=datatype)  # type: ignore[arg-type]
    with client_for(fake_av, read_timeout=0.3) as client, pytest.raises(error_type) as caught:
        client.fetch(request)
    error = caught.value
    assert type(error) is error_type
    assert error.outcome is outcome
    assert error.retryable is retryable
    assert (json_text if datatype == "json" else csv_text) in str(error)
    assert [call.outcome for call in fake_av.calls()] == [fault.value]


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_a_data_response_is_classified_as_data(fake_av: FakeAlphaVantage, datatype: str) -> None:
    with client_for(fake_av) as client:
        raw = client.fetch_raw(SeriesRequest("IBM", datatype=datatype))  # type: ignore[arg-type]
    assert raw.classified.outcome is Outcome.DATA
    assert raw.classified.error is None
    assert (raw.classified.document is not None) is (datatype == "json")
    assert (raw.classified.text is not None) is (datatype == "csv")


@pytest.mark.parametrize(
    ("api_key", "symbol", "function", "free_tier", "error_type"),
    [
        pytest.param("wrong-key", "IBM", Function.DAILY, False, InvalidApiKey, id="an unknown key is refused as invalid"),  # noqa: E501
        pytest.param("demo", "MSFT", Function.DAILY, False, DemoKeyMisuse, id="the demo key is refused for anything but IBM"),  # noqa: E501
        pytest.param(None, "INVALIDXYZ", Function.DAILY, False, InvalidCall, id="an unknown symbol is an invalid call"),  # noqa: E501
        pytest.param(None, "IBM", Function.DAILY_ADJUSTED, True, PremiumEndpoint, id="daily adjusted is a premium endpoint on a free key"),  # noqa: E501
    ],
)  # fmt: skip
def test_the_fake_produces_each_permanent_outcome_without_injection(
    fake_av: FakeAlphaVantage,
    api_key: str | None,
    symbol: str,
    function: Function,
    free_tier: bool,
    error_type: type[AlphaVantageError],
) -> None:
    fake_av.configure(free_tier=free_tier)
    client = AlphaVantageClient(api_key or fake_av.api_key, fake_av.url, max_retries=0)
    with client, pytest.raises(error_type):
        client.fetch(SeriesRequest(symbol, function))
    assert len(fake_av.calls()) == 1


def test_the_demo_key_serves_ibm(fake_av: FakeAlphaVantage) -> None:
    with AlphaVantageClient("demo", fake_av.url, max_retries=0) as client:
        assert len(client.fetch(SeriesRequest("IBM")).bars) == 100


REQUEST = SeriesRequest("IBM")


@pytest.mark.parametrize(
    ("text", "error_type", "scope"),
    [
        pytest.param(texts.NOTE_MINUTE, RateLimited, "minute", id="calls per minute means minute scope"),  # noqa: E501
        pytest.param(texts.INFORMATION_DAY, RateLimited, "day", id="requests per day means day scope"),  # noqa: E501
        pytest.param(texts.INFORMATION_SPREAD, RateLimited, "minute", id="spreading out wins over its per-day mention"),  # noqa: E501
        pytest.param("Something new happened.", RateLimited, "unknown", id="unknown wording has unknown scope"),  # noqa: E501
        pytest.param(texts.PREMIUM_ENDPOINT, PremiumEndpoint, None, id="a premium endpoint is not a rate limit"),  # noqa: E501
        pytest.param("Thank you for using Alpha Vantage! This is a premium endpoint and there are multiple ways to unlock premium endpoints: (1) hold a token, (2) subscribe to a plan", PremiumEndpoint, None, id="the 2022 wording listing ways to unlock is a premium endpoint"),  # noqa: E501
        pytest.param(texts.premium_parameter("TIME_SERIES_DAILY"), PremiumParameter, None, id="a premium feature is a premium parameter"),  # noqa: E501
        pytest.param(texts.DEMO_KEY, DemoKeyMisuse, None, id="the demo wording is demo key misuse"),
    ],
)  # fmt: skip
def test_notice_wording_decides_the_outcome(
    text: str, error_type: type[AlphaVantageError], scope: str | None
) -> None:
    error = classify_notice(text, REQUEST)
    assert type(error) is error_type
    if scope is not None:
        assert isinstance(error, RateLimited)
        assert error.scope == scope


PREMIUM = "is a premium endpoint for this key; use a premium key"


@pytest.mark.parametrize(
    ("function", "advice"),
    [
        pytest.param(Function.DAILY, ", or try the adjusted daily series (STOCK_ADJUSTED=true), or the weekly or monthly series", id="daily refused: the adjusted flavour, weekly, monthly"),  # noqa: E501
        pytest.param(Function.DAILY_ADJUSTED, ", or try the unadjusted daily series (STOCK_ADJUSTED=false), or the weekly or monthly series", id="adjusted daily refused: the unadjusted flavour, weekly, monthly"),  # noqa: E501
        pytest.param(Function.WEEKLY, ", or try the adjusted weekly series (STOCK_ADJUSTED=true), or the daily or monthly series", id="weekly refused: never weekly"),  # noqa: E501
        pytest.param(Function.MONTHLY_ADJUSTED, ", or try the unadjusted monthly series (STOCK_ADJUSTED=false), or the daily or weekly series", id="adjusted monthly refused: never adjusted monthly"),  # noqa: E501
        pytest.param(Function.INTRADAY, ", or try the daily, weekly or monthly series", id="intraday refused: daily, weekly, monthly"),  # noqa: E501
        pytest.param(ActionFunction.DIVIDENDS, "", id="dividends refused: a premium key alone"),
    ],
)  # fmt: skip
def test_a_premium_endpoint_never_advises_the_refused_function(
    function: Function | ActionFunction, advice: str
) -> None:
    # Alpha Vantage has swapped which daily function is free more than once (2022: the
    # adjusted one was free, the raw one premium): no function is called free.
    if isinstance(function, ActionFunction):
        request: SeriesRequest | ActionRequest = ActionRequest("IBM", function)
    else:
        interval = "5min" if function is Function.INTRADAY else None
        request = SeriesRequest("IBM", function, interval=interval)
    error = classify_notice(texts.PREMIUM_ENDPOINT, request)
    assert isinstance(error, PremiumEndpoint)
    assert str(error) == f"{function.value} {PREMIUM}{advice}"


def test_a_4xx_other_than_429_is_a_permanent_invalid_call() -> None:
    verdict = classify_response(REQUEST, 404, {}, b"not found")
    assert isinstance(verdict.error, InvalidCall)
    assert "check ALPHAVANTAGE_BASE_URL" in str(verdict.error)


def test_a_json_array_body_is_malformed() -> None:
    verdict = classify_response(REQUEST, 200, {}, b"[1, 2]")
    assert isinstance(verdict.error, MalformedResponse)
    assert "expected a JSON object, got list" in str(verdict.error)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param("7", 7.0, id="delta seconds are read as seconds"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, id="a past HTTP date means no wait"),
        pytest.param("soon", None, id="garbage is ignored"),
        pytest.param(None, None, id="no header means no hint"),
    ],
)
def test_retry_after_is_parsed(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_a_long_notice_is_cut_at_a_word_boundary(fake_av: FakeAlphaVantage) -> None:
    notice = "Thank you for using Alpha Vantage! " + "Please read this notice carefully. " * 12
    fake_av.set_body("IBM", f'{{"Error Message": "{notice.strip()}"}}')
    with client_for(fake_av) as client, pytest.raises(AlphaVantageError) as caught:
        client.fetch(SeriesRequest("IBM"))
    message = str(caught.value)
    kept = message[message.index("Thank you") :].split("…", maxsplit=1)[0]
    assert "…" in message
    assert notice.startswith(kept + " "), "the cut falls between two words"
