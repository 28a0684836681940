"""Replies are bounded in time and size; network failures keep their cause and say whether the
call ever reached the API."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from stockpipe.alphavantage import (
    ApiUnreachable,
    MalformedResponse,
    NetworkError,
    Outcome,
    SeriesRequest,
)
from stockpipe.alphavantage.network import shorten
from stockpipe.store.embedded import free_port
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.alphavantage.helpers import RecordingGate, RecordingSleep, client_for

IBM = SeriesRequest("IBM")


@pytest.mark.timeout(60)
def test_a_reply_that_trickles_is_cut_off_at_the_whole_reply_deadline(
    fake_av: FakeAlphaVantage,
) -> None:
    # One byte every 50 ms never leaves the socket silent for a read timeout: before the
    # whole-reply deadline this call waited about 15 minutes (17 kB at 20 bytes a second).
    fake_av.inject(Fault.TRICKLE, delay=0.05)
    gate = RecordingGate()
    client = client_for(fake_av, read_timeout=1.0, gate=gate)
    expected = r"no complete reply for IBM .* within 3s"
    with client, pytest.raises(NetworkError, match=expected) as caught:
        client.fetch(IBM)
    assert caught.value.reached_api, "the server got the request: the call counts"
    assert gate.reported == [Outcome.NETWORK_ERROR]
    assert [call.outcome for call in fake_av.calls()] == ["trickle"]


def test_a_reply_declaring_more_than_the_cap_is_refused_unread(fake_av: FakeAlphaVantage) -> None:
    client = client_for(fake_av, max_reply_mb=0.01, max_retries=3)
    with client, pytest.raises(MalformedResponse, match=r"declares 17,\d{3} bytes, more than"):
        client.fetch(IBM)
    assert len(fake_av.calls()) == 1, "an oversized reply is not asked for again"


@pytest.fixture
def undeclared_body() -> Iterator[str]:
    """An HTTP server whose 200 KB reply has no Content-Length (it ends at the close)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 200_000)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/query"
    thread.join(timeout=10)


def test_a_reply_growing_past_the_cap_is_refused(undeclared_body: str) -> None:
    fake = FakeAlphaVantage()  # not started: only its key and URL shape are borrowed
    client = client_for(fake, max_reply_mb=0.1)
    client.base_url = undeclared_body
    with client, pytest.raises(MalformedResponse, match=r"exceeds 1\d\d,\d{3} bytes"):
        client.fetch(IBM)


@pytest.mark.timeout(60)
def test_a_refused_connection_is_released_and_ends_as_api_unreachable() -> None:
    gate = RecordingGate()
    sleep = RecordingSleep()
    fake = FakeAlphaVantage()
    client = client_for(fake, max_retries=2, gate=gate, sleep=sleep)
    client.base_url = f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
    with client, pytest.raises(ApiUnreachable) as caught:
        client.fetch(IBM)
    message = str(caught.value)
    assert message.startswith("Alpha Vantage is unreachable at 127.0.0.1: ")
    assert "[Errno 111] Connection refused (3 attempts, no call spent)" in message
    assert message.endswith("check the network or ALPHAVANTAGE_BASE_URL")
    assert (gate.acquired, gate.released, gate.reported) == (3, 3, [])
    assert client.calls_made == 0
    assert len(sleep.waits) == 2, "a dead network may come back: the retries still happen"


def test_a_failure_after_the_request_went_out_is_not_unreachable(fake_av: FakeAlphaVantage) -> None:
    fake_av.inject(Fault.CONNECTION_RESET)
    gate = RecordingGate()
    client = client_for(fake_av, max_retries=1, gate=gate)
    with client, pytest.raises(NetworkError) as caught:
        client.fetch(IBM)
    assert not isinstance(caught.value, ApiUnreachable)
    assert caught.value.reached_api
    assert (gate.released, gate.reported) == (0, [Outcome.NETWORK_ERROR] * 2)


@pytest.mark.parametrize(
    ("noise"),
    [
        pytest.param("HTTPConnectionPool", id="no connection pool class"),
        pytest.param("Max retries exceeded", id="no urllib3 retry wording"),
        pytest.param("/query", id="no URL"),
        pytest.param("object at 0x", id="no object address"),
    ],
)
def test_a_network_error_keeps_the_cause_and_drops_the_noise(noise: str) -> None:
    client = client_for(FakeAlphaVantage())
    client.base_url = f"http://127.0.0.1:{free_port()}/query"
    with client, pytest.raises(ApiUnreachable) as caught:
        client.fetch(IBM)
    assert "Failed to establish a new connection: [Errno 111] Connection refused" in str(
        caught.value
    )
    assert noise not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("short enough", "short enough", id="a short text is kept whole"),
        pytest.param(
            "Failed to resolve 'www.alphavantage.co' (Name or service not known)",
            "Failed to resolve 'www.alphavantage.co'…",
            id="a long text is cut at a word boundary",
        ),
    ],
)
def test_shorten_never_cuts_mid_word(text: str, expected: str) -> None:
    assert shorten(text, 45) == expected


def test_the_retry_log_states_the_wait_the_gate_imposes(
    fake_av: FakeAlphaVantage, caplog: pytest.LogCaptureFixture
) -> None:
    # Backoff 0-2 s, but the gate spaces calls 12 s apart: the log said "retry 1/1 in 0.80s"
    # while the next attempt came 12 s later.
    fake_av.inject(Fault.HTTP_500, times=1)
    gate = RecordingGate(next_call_in=12.0)
    with caplog.at_level(logging.WARNING), client_for(fake_av, max_retries=1, gate=gate) as client:
        client.fetch(IBM)
    assert [r.getMessage().rsplit("; ", 1)[-1] for r in caplog.records] == ["retry 1/1 in 12.0s"]
