"""Sort one HTTP response into a typed outcome.

Alpha Vantage reports nearly every failure as HTTP 200 with a JSON body whose single key is
`Note`, `Information` or `Error Message`, and the wording has changed over the years. So we
classify by top-level key first, then by stable message fragments, and treat an unknown
`Information`/`Note` as a rate limit: backing off and storing nothing is the safe reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import orjson

from stockpipe.alphavantage.errors import (
    AlphaVantageError,
    DemoKeyMisuse,
    InvalidApiKey,
    InvalidCall,
    MalformedResponse,
    Outcome,
    PremiumEndpoint,
    PremiumParameter,
    RateLimited,
    RateLimitScope,
    ServerError,
)
from stockpipe.alphavantage.network import shorten
from stockpipe.redact import redact

CLAIM_KEY_URL = "https://www.alphavantage.co/support/#api-key"
# Fragments matched lower-cased. Checked in this order: the 2025 rate-limit notice also says
# "unlock all premium endpoints", so premium matching needs the "is a premium ..." phrasing.
_DEMO = ("demo** api key", "demo api key")
_PREMIUM_PARAMETER = ("is a premium feature", "parameter value is a premium")
_PREMIUM_ENDPOINT = ("is a premium endpoint",)
# The 2025 notice ("spreading out ... (25 requests per day)") names both; it is sent for
# bursts, so minute wording wins over day wording.
_MINUTE = ("spreading out", "per minute", "call frequency", "frequency", "per second")
_DAY = ("per day", "daily rate limit", "daily limit", "requests a day")


class CallRequest(Protocol):
    """What the classifier needs of a request: a time series (SeriesRequest) or another
    function (stockpipe.alphavantage.actions.ActionRequest)."""

    @property
    def symbol(self) -> str: ...
    @property
    def function(self) -> StrEnum: ...
    @property
    def outputsize(self) -> str | None: ...
    @property
    def datatype(self) -> str: ...
    @property
    def series_key(self) -> str: ...
    def describe(self) -> str: ...
    def query_params(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Classified:
    """The verdict on one response: data (decoded) or an error ready to raise."""

    outcome: Outcome
    error: AlphaVantageError | None = None
    document: dict[str, Any] | None = None  # decoded JSON data payload
    text: str | None = None  # CSV data payload


def _notice_text(value: object, secrets: Iterable[str]) -> str:
    # A long notice is cut at a word boundary: a half word reads like a different message.
    return shorten(redact(str(value), secrets), 300)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


_SERIES = ("daily", "weekly", "monthly")


def premium_endpoint_advice(function: str) -> str:
    """What a key refused `function` may use instead, never `function` itself. No function is
    called free: Alpha Vantage has swapped which daily flavour (adjusted or not) a free key
    gets more than once, so the advice names the other ones to try."""
    if not function.startswith("TIME_SERIES_"):
        return "use a premium key"
    adjusted = function.endswith("_ADJUSTED")
    name = function.removeprefix("TIME_SERIES_").removesuffix("_ADJUSTED").lower()
    others = [series for series in _SERIES if series != name]
    choices = []
    if name in _SERIES:  # the other flavour of the same series
        flavour, setting = ("unadjusted", "false") if adjusted else ("adjusted", "true")
        choices.append(f"the {flavour} {name} series (STOCK_ADJUSTED={setting})")
    listed = ", ".join(others[:-1]) + f" or {others[-1]}" if len(others) > 1 else others[0]
    choices.append(f"the {listed} series")
    return f"use a premium key, or try {', or '.join(choices)}"


def classify_notice(text: str, request: CallRequest) -> AlphaVantageError:
    """An `Information`/`Note` body -> the error it means."""
    lowered = text.lower()
    if any(fragment in lowered for fragment in _DEMO):
        return DemoKeyMisuse(
            f"the demo API key only serves IBM; set API_KEY to your own free key ({CLAIM_KEY_URL})"
        )
    if any(fragment in lowered for fragment in _PREMIUM_PARAMETER):
        if request.outputsize == "full":
            return PremiumParameter(
                f"outputsize=full needs a premium key for {request.function.value}; "
                "use compact (API_OUTPUT_SIZE=compact) or upgrade"
            )
        return PremiumParameter(
            f"a parameter of {request.describe()} needs a premium key; "
            f"change the parameter or upgrade. Alpha Vantage said: {text}"
        )
    if any(fragment in lowered for fragment in _PREMIUM_ENDPOINT):
        return PremiumEndpoint(
            f"{request.function.value} is a premium endpoint for this key; "
            f"{premium_endpoint_advice(request.function.value)}"
        )
    scope: RateLimitScope = "unknown"
    if any(fragment in lowered for fragment in _MINUTE):
        scope = "minute"
    elif any(fragment in lowered for fragment in _DAY):
        scope = "day"
    advice = {
        "minute": "too many calls per minute; slow down (raise API_POLITE_DELAY_SEC)",
        "day": "the daily call limit of this key is reached; try again tomorrow or upgrade",
        "unknown": "unrecognised notice, treated as a rate limit",
    }[scope]
    return RateLimited(f"Alpha Vantage rate limit: {advice}. It said: {text}", scope=scope)


def classify_document(
    document: object, request: CallRequest, secrets: Iterable[str] = ()
) -> Classified:
    """A decoded JSON body -> data, or the error its top-level key announces."""
    if not isinstance(document, dict):
        error = MalformedResponse(f"expected a JSON object, got {type(document).__name__}")
        return Classified(error.outcome, error)
    if request.series_key in document:
        meta = document.get("Meta Data")
        if isinstance(meta, dict):
            for key, value in meta.items():
                if key.endswith("Symbol") and str(value).upper() != request.symbol.upper():
                    error = MalformedResponse(
                        f"asked for {request.symbol} but the response is for "
                        f"{_notice_text(value, secrets)[:20]}; not storing it"
                    )
                    return Classified(error.outcome, error)
        return Classified(Outcome.DATA, document=document)
    if "Error Message" in document:
        text = _notice_text(document["Error Message"], secrets)
        if "apikey" in text.lower() or "api key" in text.lower():
            invalid_key = InvalidApiKey(
                f"the API key is invalid or missing; set API_KEY to a valid key ({CLAIM_KEY_URL})"
            )
            return Classified(invalid_key.outcome, invalid_key)
        invalid = InvalidCall(
            f"Alpha Vantage rejected {request.describe()} as an invalid API call: check the "
            f"symbol (e.g. BRK.B, SHOP.TRT) and parameters. It said: {text}"
        )
        return Classified(invalid.outcome, invalid)
    for key in ("Information", "Note"):
        if key in document:
            notice = classify_notice(_notice_text(document[key], secrets), request)
            return Classified(notice.outcome, notice)
    keys = ", ".join(repr(key) for key in list(document)[:5]) or "none"
    error = MalformedResponse(
        f"response to {request.describe()} lacks {request.series_key!r} (top-level keys: {keys})"
    )
    return Classified(error.outcome, error)


def classify_response(
    request: CallRequest,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Iterable[str] = (),
) -> Classified:
    """Everything we can learn from one complete HTTP response."""
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if status == 429:
        limited = RateLimited(
            "Alpha Vantage answered HTTP 429 (too many requests); slowing down",
            scope="minute",
            retry_after=retry_after,
        )
        return Classified(limited.outcome, limited)
    if status >= 500:
        server = ServerError(f"Alpha Vantage answered HTTP {status}", retry_after=retry_after)
        return Classified(server.outcome, server)
    if status != 200:
        invalid = InvalidCall(
            f"the endpoint answered HTTP {status} for {request.describe()}; "
            "check ALPHAVANTAGE_BASE_URL"
        )
        return Classified(invalid.outcome, invalid)
    start = body[:64].lstrip()
    if not start:
        empty = MalformedResponse("Alpha Vantage sent an empty body", retryable=True)
        return Classified(empty.outcome, empty)
    if start[:1] == b"<":
        html = MalformedResponse(
            "Alpha Vantage sent an HTML page instead of data (proxy or maintenance page?)",
            retryable=True,
        )
        return Classified(html.outcome, html)
    # Errors come back as JSON even when CSV was asked for.
    if start[:1] in (b"{", b"["):
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            truncated = MalformedResponse(
                "Alpha Vantage sent invalid JSON (truncated transfer?)", retryable=True
            )
            return Classified(truncated.outcome, truncated)
        return classify_document(document, request, secrets)
    if request.datatype == "csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            undecodable = MalformedResponse("the CSV body is not UTF-8 text")
            return Classified(undecodable.outcome, undecodable)
        return Classified(Outcome.DATA, text=text)
    other = MalformedResponse(
        f"expected JSON for {request.describe()}, got text starting "
        f"{_notice_text(start[:20].decode('utf-8', 'replace'), secrets)!r}"
    )
    return Classified(other.outcome, other)
