"""Typed outcomes of one Alpha Vantage call and the errors that carry them.

Every message tells the user what to do next and never contains the API key: callers build
messages from the request's safe parameters only, and network errors are redacted first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from stockpipe.errors import StockpipeError

RateLimitScope = Literal["minute", "day", "unknown"]


class Outcome(StrEnum):
    DATA = "data"
    RATE_LIMITED = "rate_limited"
    PREMIUM_ENDPOINT = "premium_endpoint"
    PREMIUM_PARAMETER = "premium_parameter"
    DEMO_KEY = "demo_key"
    INVALID_KEY = "invalid_key"
    INVALID_CALL = "invalid_call"
    SERVER_ERROR = "server_error"
    NETWORK_ERROR = "network_error"
    MALFORMED = "malformed"


class AlphaVantageError(StockpipeError):
    """Base of every failure the client reports; `str()` is the user-facing message."""

    outcome: Outcome = Outcome.MALFORMED
    retryable: bool = False
    # Status of the HTTP reply that carried the error (None: no reply, or raised by a gate).
    # An InvalidCall in a 200 reply is Alpha Vantage rejecting the request; in a 404 it is
    # the wrong endpoint, which says nothing about the symbol.
    http_status: int | None = None

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Seconds the server asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class RateLimited(AlphaVantageError):
    """Throttled. Scope "day" means today's quota is gone: retrying today is pointless."""

    outcome = Outcome.RATE_LIMITED

    def __init__(
        self, message: str, *, scope: RateLimitScope = "unknown", retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.scope: RateLimitScope = scope
        self.retryable = scope != "day"


class BudgetExhausted(RateLimited):
    """Raised by a call gate when no call may be spent today; the client never retries it."""

    def __init__(self, message: str = "the daily API call budget is spent; try again tomorrow"):
        super().__init__(message, scope="day")


class PremiumEndpoint(AlphaVantageError):
    outcome = Outcome.PREMIUM_ENDPOINT


class PremiumParameter(AlphaVantageError):
    outcome = Outcome.PREMIUM_PARAMETER


class DemoKeyMisuse(AlphaVantageError):
    outcome = Outcome.DEMO_KEY


class InvalidApiKey(AlphaVantageError):
    outcome = Outcome.INVALID_KEY


class InvalidCall(AlphaVantageError):
    """Invalid symbol or call: the same request will fail again."""

    outcome = Outcome.INVALID_CALL


class ServerError(AlphaVantageError):
    outcome = Outcome.SERVER_ERROR
    retryable = True


class NetworkError(AlphaVantageError):
    """Timeout, refused or reset connection, or a response cut off mid-transfer.

    `reached_api` is False when the request provably never left this machine (name
    resolution, connect refused or timed out, TLS handshake): the API cannot have counted it."""

    outcome = Outcome.NETWORK_ERROR
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        reached_api: bool = True,
        cause: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.reached_api = reached_api
        self.cause = cause or message  # the gist of what failed, without the request's name


UNREACHABLE = "Alpha Vantage is unreachable"  # how every ApiUnreachable message begins


class ApiUnreachable(NetworkError):
    """Every attempt of a call failed before reaching the API: the network or the configured
    endpoint is down. No call was spent; further symbols would fail the same way."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reached_api=False)


class MalformedResponse(AlphaVantageError):
    """The body is not the expected JSON/CSV. Truncated, empty or HTML bodies are usually a
    proxy or a dropped transfer and are worth another try; wrong keys or a different symbol
    come back the same on every call."""

    outcome = Outcome.MALFORMED

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retryable = retryable


class EmptySeries(MalformedResponse):
    """The series object is there and holds no bar at all. Malformed for a refresh (a reply
    that would store nothing is never an empty success), but for one intraday `month` it is
    also what a month before the listing looks like."""


class NoValidBars(AlphaVantageError):
    """Every bar of the payload failed validation: storing nothing beats storing garbage."""

    outcome = Outcome.MALFORMED

    def __init__(self, message: str, skipped: dict[str, int]) -> None:
        super().__init__(message)
        self.skipped = dict(skipped)
