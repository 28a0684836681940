"""The API key never shows in an exception, a repr, a traceback, a log line or a printed URL."""

from __future__ import annotations

import logging
import traceback

import pytest

from stockpipe.alphavantage import AlphaVantageClient, AlphaVantageError, SeriesRequest
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.alphavantage.helpers import RecordingSleep


def _texts(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize("fault", [pytest.param(f, id=f"the {f.value} outcome") for f in Fault])
def test_the_key_never_leaks_for_any_outcome(
    fake_av: FakeAlphaVantage, caplog: pytest.LogCaptureFixture, fault: Fault, datatype: str
) -> None:
    key = fake_av.api_key
    fake_av.inject(fault, delay=5)
    outputsize = "full" if fault is Fault.PREMIUM_PARAMETER else None
    request = SeriesRequest("IBM", outputsize=outputsize, datatype=datatype)  # type: ignore[arg-type]
    client = AlphaVantageClient(
        key, fake_av.url, read_timeout=0.3, max_retries=1, sleep=RecordingSleep()
    )
    with caplog.at_level(logging.DEBUG), client, pytest.raises(AlphaVantageError) as caught:
        client.fetch(request)
    assert caplog.records, "the client logs each attempt at DEBUG"
    texts = _texts(caught.value) + [r.getMessage() for r in caplog.records]
    texts += [repr(client), client.safe_url(request)]
    assert [text for text in texts if key in text] == []


def test_the_key_never_leaks_on_success_or_refused_connection(
    fake_av: FakeAlphaVantage, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = fake_av.api_key
    # urllib3 must log the call for this test to mean anything, whatever an earlier test's
    # logging configuration (a dictConfig disables existing loggers; a level may be left set).
    pool_logger = logging.getLogger("urllib3.connectionpool")
    monkeypatch.setattr(pool_logger, "disabled", False)
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, pool_logger.name):
        with AlphaVantageClient(key, fake_av.url) as client:
            client.fetch(SeriesRequest("IBM"))
        refused = AlphaVantageClient(key, "http://127.0.0.1:9/query", max_retries=0)
        with refused, pytest.raises(AlphaVantageError) as caught:
            refused.fetch(SeriesRequest("IBM"))
    # The cause is kept, the URL (which held the key) is not repeated at all.
    assert "[Errno 111] Connection refused" in str(caught.value)
    assert "apikey" not in str(caught.value)
    texts = _texts(caught.value) + [r.getMessage() for r in caplog.records]
    assert any("GET /query" in r.getMessage() for r in caplog.records), "urllib3 logged the call"
    assert [text for text in texts if key in text] == []


def test_a_key_echoed_back_by_the_server_is_masked(fake_av: FakeAlphaVantage) -> None:
    key = fake_av.api_key
    fake_av.set_body("IBM", f'{{"Information": "key {key} is over its limit"}}')
    client = AlphaVantageClient(key, fake_av.url, max_retries=0)
    with client, pytest.raises(AlphaVantageError) as caught:
        client.fetch(SeriesRequest("IBM"))
    assert "key *** is over its limit" in str(caught.value)
    assert key not in str(caught.value)
