"""HTTP client for the Alpha Vantage time-series functions: call, classify, retry, parse.

Transient outcomes (rate limit, 429, 5xx, network failures, truncated/empty/HTML bodies) are
retried with exponential backoff and full jitter; a Retry-After header replaces the jitter.
Permanent ones (bad key, bad symbol, premium, demo misuse, a wrong payload) raise at once.
A whole reply must arrive within the read timeout and stay under the size cap (see
stockpipe.alphavantage.network); an attempt that never left this machine is released from the
gate, and when every attempt of a call failed that way the call raises ApiUnreachable.
The API key only ever travels in the query string of the request itself: it is kept out of
messages, reprs and logs (urllib3 logs request lines at DEBUG, so that logger gets a filter).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
import requests.adapters
import urllib3.exceptions

from stockpipe.alphavantage.actions import (
    ActionFunction,
    ActionRequest,
    Dividends,
    Splits,
    parse_dividends,
    parse_splits,
)
from stockpipe.alphavantage.classify import CallRequest, Classified, classify_response
from stockpipe.alphavantage.errors import (
    UNREACHABLE,
    AlphaVantageError,
    ApiUnreachable,
    MalformedResponse,
    NetworkError,
    Outcome,
)
from stockpipe.alphavantage.gate import CallGate, OpenGate
from stockpipe.alphavantage.listings import (
    ListingRequest,
    Listings,
    ListingState,
    parse_listing_csv,
)
from stockpipe.alphavantage.network import (
    DeadlineExceeded,
    TooLarge,
    describe_failure,
    never_sent,
    read_body,
)
from stockpipe.alphavantage.parse import ParsedSeries, parse_csv, parse_json
from stockpipe.alphavantage.series import SeriesRequest
from stockpipe.closing import ClosesOnExit
from stockpipe.redact import RedactingFilter

if TYPE_CHECKING:
    from stockpipe.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R", bound=CallRequest)
DEFAULT_BASE_URL = "https://www.alphavantage.co/query"


def _guard_urllib3_logger() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One classified data response before parsing (for benchmarks and diagnostics)."""

    status: int
    body: bytes
    classified: Classified


class AlphaVantageClient(ClosesOnExit):
    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_reply_mb: float = 50,
        max_retries: int = 4,
        backoff_base: float = 2.0,
        backoff_cap: float = 120.0,
        gate: CallGate | None = None,
        sleep: Callable[[float], None] = time.sleep,
        connections: int = 1,
    ) -> None:
        self._api_key = api_key
        # "demo" is public and would mask ordinary words; every other key is a secret.
        self._secrets = (api_key,) if api_key and api_key != "demo" else ()
        self.base_url = base_url
        # read_timeout bounds the whole reply (first byte to last), not only the silence
        # between two reads: see stockpipe.alphavantage.network.
        self.timeout = (connect_timeout, read_timeout)
        self.max_reply_bytes = int(max_reply_mb * 1024 * 1024)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._gate: CallGate = gate if gate is not None else OpenGate()
        self._sleep = sleep
        self._random = random.Random()
        # One session: keep-alive across calls to the same host, a kept connection per request
        # in flight (the default pool of 10 would open and drop connections past ten).
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, connections))
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = "stockpipe"
        self.calls_made = 0
        _guard_urllib3_logger()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        gate: CallGate | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        connections: int = 1,
    ) -> AlphaVantageClient:
        return cls(
            settings.api_key.get_secret_value(),
            settings.alphavantage_base_url,
            connect_timeout=settings.api_connect_timeout_sec,
            read_timeout=settings.api_read_timeout_sec,
            max_reply_mb=settings.api_max_reply_mb,
            max_retries=settings.api_max_retries,
            gate=gate,
            sleep=sleep,
            connections=connections,
        )

    def __repr__(self) -> str:
        return f"AlphaVantageClient(base_url={self.base_url!r}, calls_made={self.calls_made})"

    def close(self) -> None:
        self._session.close()

    def safe_url(self, request: CallRequest) -> str:
        """The URL of a request without its API key: the only form we log or print."""
        return f"{self.base_url}?{urlencode(request.query_params())}"

    def fetch(self, request: SeriesRequest) -> ParsedSeries:
        """Fetch, classify, retry transient failures and parse; raise a typed error otherwise."""
        return self._with_retries(request, self._parsed_attempt)

    def fetch_raw(self, request: SeriesRequest) -> RawResponse:
        """Like fetch, but return the classified data response unparsed."""
        return self._with_retries(request, self._raw_attempt)

    def fetch_splits(self, symbol: str) -> Splits:
        """Every split Alpha Vantage lists for `symbol` (SPLITS), classified and retried alike."""
        request = ActionRequest(symbol, ActionFunction.SPLITS)
        return self._with_retries(request, lambda r: parse_splits(self._document(r), r))

    def fetch_dividends(self, symbol: str) -> Dividends:
        """Every dividend Alpha Vantage lists for `symbol` (DIVIDENDS), declared ones included."""
        request = ActionRequest(symbol, ActionFunction.DIVIDENDS)
        return self._with_retries(request, lambda r: parse_dividends(self._document(r), r))

    def fetch_listing(self, state: ListingState, on: date | None = None) -> Listings:
        """LISTING_STATUS for one state (today's, or as of `on`), classified and retried alike."""
        return self._with_retries(ListingRequest(state, on), self._listing_attempt)

    def _listing_attempt(self, request: ListingRequest) -> Listings:
        _, _, classified = self._send(request)
        if classified.text is None:
            raise MalformedResponse(f"expected CSV for {request.describe()}, got JSON data")
        return parse_listing_csv(classified.text, request)

    def _document(self, request: CallRequest) -> dict[str, Any]:
        _, _, classified = self._send(request)
        if classified.document is None:
            raise MalformedResponse(f"expected JSON for {request.describe()}")
        return classified.document

    def _with_retries(self, request: R, attempt: Callable[[R], T]) -> T:
        retry = 0
        reached_api = False  # did any attempt of this call reach the server?
        while True:
            self._gate.acquire()
            self.calls_made += 1
            try:
                result = attempt(request)
            except AlphaVantageError as error:
                unsent = isinstance(error, NetworkError) and not error.reached_api
                if unsent:  # it never left this machine: it must not count anywhere
                    self._gate.release()
                    self.calls_made -= 1
                else:
                    reached_api = True
                    self._gate.report(error.outcome, request)
                delay = self._retry_delay(error, retry)
                if delay is None:
                    if isinstance(error, NetworkError) and unsent and not reached_api:
                        raise self._unreachable(error, retry + 1) from error
                    raise
                retry += 1
                # The gate may hold the next attempt longer than the backoff (the spacing
                # between calls, a rate-limit slow-down): say the wait that really comes.
                wait = max(delay, self._gate.next_call_in())
                log.warning(
                    "%s: %s; retry %d/%d in %.1fs",
                    request.describe(),
                    error.message,
                    retry,
                    self.max_retries,
                    wait,
                )
                self._sleep(delay)
                continue
            self._gate.report(Outcome.DATA, request)
            return result

    def _unreachable(self, error: NetworkError, attempts: int) -> ApiUnreachable:
        host = urlsplit(self.base_url).hostname or self.base_url
        return ApiUnreachable(
            f"{UNREACHABLE} at {host}: {error.cause} ({attempts} attempt"
            f"{'s' if attempts != 1 else ''}, no call spent); check the network or"
            " ALPHAVANTAGE_BASE_URL"
        )

    def _retry_delay(self, error: AlphaVantageError, retry: int) -> float | None:
        if not error.retryable or retry >= self.max_retries:
            return None
        if error.retry_after is not None:
            # Waiting longer than our cap would stall a worker: give up now and let the
            # schedule come back, rather than ignore what the server asked for.
            return error.retry_after if error.retry_after <= self.backoff_cap else None
        # Full jitter: spreads retries of many workers that failed together.
        return self._random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**retry))

    def _send(self, request: CallRequest) -> tuple[int, bytes, Classified]:
        params = request.query_params()
        params["apikey"] = self._api_key
        log.debug("GET %s", self.safe_url(request))
        deadline = time.monotonic() + self.timeout[0] + self.timeout[1]
        try:
            with self._session.get(
                self.base_url, params=params, timeout=self.timeout, stream=True
            ) as response:
                body = read_body(response, deadline, self.max_reply_bytes)
        except DeadlineExceeded as exc:
            raise NetworkError(
                f"no complete reply for {request.describe()} within"
                f" {self.timeout[0] + self.timeout[1]:g}s ({exc.received:,} bytes received;"
                " API_CONNECT_TIMEOUT_SEC + API_READ_TIMEOUT_SEC bound the whole reply)"
            ) from None
        except TooLarge as exc:
            size = "declares" if exc.declared else "exceeds"
            raise MalformedResponse(
                f"the reply for {request.describe()} {size} {exc.size:,} bytes, more than"
                f" API_MAX_REPLY_MB allows ({self.max_reply_bytes / 1024 / 1024:g} MB); refused"
            ) from None
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
            if never_sent(exc):
                cause = f"no connection within {self.timeout[0]:g}s (connect timeout)"
                raise NetworkError(
                    f"{cause} for {request.describe()}", reached_api=False, cause=cause
                ) from None
            raise NetworkError(
                f"no answer for {request.describe()} within {self.timeout[1]:g}s (timeout)"
            ) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # The exception text embeds the full URL, key included: keep only the redacted
            # gist of the innermost cause.
            cause = describe_failure(exc, self._secrets)
            raise NetworkError(
                f"network error for {request.describe()}: {cause}",
                reached_api=not never_sent(exc),
                cause=cause,
            ) from None
        classified = classify_response(
            request, response.status_code, response.headers, body, self._secrets
        )
        if classified.error is not None:
            classified.error.http_status = response.status_code
            raise classified.error
        return response.status_code, body, classified

    def _raw_attempt(self, request: SeriesRequest) -> RawResponse:
        status, body, classified = self._send(request)
        return RawResponse(status, body, classified)

    def _parsed_attempt(self, request: SeriesRequest) -> ParsedSeries:
        _, _, classified = self._send(request)
        if classified.document is not None:
            return parse_json(classified.document, request)
        return parse_csv(classified.text or "", request)
