"""Every failure the fake Alpha Vantage server can be told to produce, with the exact
wording the real service has used (see docs on the Alpha Vantage facts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

import orjson

from stockpipe.alphavantage.actions import ActionFunction
from stockpipe.alphavantage.series import Function
from stockpipe.testing.http import Reply
from stockpipe.testing.payloads import render_json

# (function, symbol, params, as_symbol) -> the data reply the server would send
DataRenderer = Callable[[str, str, dict[str, str], str], Reply]
_FUNCTIONS = {f.value for f in Function}
_DATA_FUNCTIONS = _FUNCTIONS | {f.value for f in ActionFunction}


class Fault(StrEnum):
    RATE_LIMIT_MINUTE = "rate_limit_minute"  # old `Note`: "5 calls per minute"
    RATE_LIMIT_DAY = "rate_limit_day"  # `Information`: "25 requests per day"
    RATE_LIMIT_SPREAD = "rate_limit_spread"  # 2025 `Information`: "spreading out"
    UNKNOWN_NOTICE = "unknown_notice"  # an `Information` nobody has seen before
    PREMIUM_ENDPOINT = "premium_endpoint"
    PREMIUM_PARAMETER = "premium_parameter"
    DEMO_KEY = "demo_key"
    INVALID_KEY = "invalid_key"
    INVALID_CALL = "invalid_call"
    HTTP_429 = "http_429"
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    TIMEOUT = "timeout"  # answer only after `delay` seconds
    CONNECTION_RESET = "connection_reset"  # TCP RST, no response
    CONNECTION_DROP = "connection_drop"  # orderly close, no response
    # Headers at once, then the body one byte every `delay` seconds: a proxy or server stuck
    # mid-body, which never goes silent long enough for a read timeout to fire.
    TRICKLE = "trickle"
    TRUNCATED_JSON = "truncated_json"
    HTML_PAGE = "html_page"
    EMPTY_BODY = "empty_body"
    WRONG_KEYS = "wrong_keys"
    WRONG_SYMBOL = "wrong_symbol"
    EMPTY_SERIES = "empty_series"


NOTE_MINUTE = (
    "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute "
    "and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would like "
    "to target a higher API call frequency."
)
INFORMATION_DAY = (
    "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. "
    "Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to "
    "instantly remove all daily rate limits."
)
INFORMATION_SPREAD = (
    "Thank you for using Alpha Vantage! Please consider spreading out your free API requests "
    "more sparingly. You may subscribe to any of the premium plans at "
    "https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day) "
    "and instantly unlock all premium endpoints"
)
INFORMATION_UNKNOWN = (
    "Thank you for using Alpha Vantage! We are upgrading our systems; please come back shortly."
)
PREMIUM_ENDPOINT = (
    "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of "
    "the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium "
    "endpoints"
)
DEMO_KEY = (
    "The **demo** API key is for demo purposes only. Please claim your free API key at "
    "(https://www.alphavantage.co/support/#api-key) to explore our full API offerings. It takes "
    "fewer than 20 seconds."
)
INVALID_KEY = (
    "the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
)
HTML_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
)


def premium_parameter(function: str) -> str:
    return (
        f"Thank you for using Alpha Vantage! The outputsize=full parameter value is a premium "
        f"feature for the {function} endpoint. You may subscribe to any of the premium plans at "
        "https://www.alphavantage.co/premium/ to instantly unlock all premium features"
    )


def invalid_call(function: str) -> str:
    return (
        "Invalid API call. Please retry or visit the documentation "
        f"(https://www.alphavantage.co/documentation/) for {function}."
    )


def notice_body(key: str, text: str) -> bytes:
    return orjson.dumps({key: text}, option=orjson.OPT_INDENT_2)


# Faults answered with a fixed JSON notice (HTTP 200, as Alpha Vantage does).
NOTICE_FAULTS: dict[Fault, tuple[str, str]] = {
    Fault.RATE_LIMIT_MINUTE: ("Note", NOTE_MINUTE),
    Fault.RATE_LIMIT_DAY: ("Information", INFORMATION_DAY),
    Fault.RATE_LIMIT_SPREAD: ("Information", INFORMATION_SPREAD),
    Fault.UNKNOWN_NOTICE: ("Information", INFORMATION_UNKNOWN),
    Fault.PREMIUM_ENDPOINT: ("Information", PREMIUM_ENDPOINT),
    Fault.DEMO_KEY: ("Information", DEMO_KEY),
    Fault.INVALID_KEY: ("Error Message", INVALID_KEY),
}


@dataclass
class FaultRule:
    """When to answer with `fault`: for a symbol/function (None = any), on the Nth /query
    call only (`on_call`, counted since the last reset), or for the next `times` matches."""

    fault: Fault
    symbol: str | None = None
    function: str | None = None
    on_call: int | None = None
    times: int | None = None
    retry_after: float | None = None
    delay: float = 10.0

    def matches(self, call_number: int, symbol: str, function: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.on_call is not None and self.on_call != call_number:
            return False
        if self.symbol is not None and self.symbol.upper() != symbol.upper():
            return False
        return self.function is None or self.function == function


def fault_reply(
    rule: FaultRule, function: str, symbol: str, params: dict[str, str], data: DataRenderer
) -> Reply:
    """The reply that stands in for real data when `rule` fires."""
    fault = rule.fault
    if fault in NOTICE_FAULTS:
        key, text = NOTICE_FAULTS[fault]
        return Reply(200, notice_body(key, text))
    if fault is Fault.PREMIUM_PARAMETER:
        return Reply(200, notice_body("Information", premium_parameter(function)))
    if fault is Fault.INVALID_CALL:
        return Reply(200, notice_body("Error Message", invalid_call(function)))
    if fault in (Fault.HTTP_429, Fault.HTTP_500, Fault.HTTP_503):
        status = int(fault.value.removeprefix("http_"))
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        return Reply(status, b'{"error": "try later"}', headers=headers)
    if fault in (Fault.CONNECTION_RESET, Fault.CONNECTION_DROP):
        return Reply(0, b"", action=fault.value)
    if fault is Fault.TRICKLE:
        known = function if function in _FUNCTIONS else Function.DAILY.value
        answer = data(known, symbol, params, "")
        return replace(answer, action=fault.value, delay=rule.delay)
    if fault is Fault.HTML_PAGE:
        return Reply(200, HTML_PAGE, "text/html")
    if fault is Fault.EMPTY_BODY:
        return Reply(200, b"")
    csv_wanted = params.get("datatype") == "csv"
    if fault is Fault.WRONG_KEYS and csv_wanted:
        return Reply(200, b"symbol,name,exchange\r\nIBM,IBM Corp,NYSE\r\n", "text/csv")
    if fault is Fault.WRONG_KEYS:
        return Reply(200, orjson.dumps({"message": "unexpected", "data": []}))
    if fault is Fault.EMPTY_SERIES and csv_wanted:
        return Reply(200, b"timestamp,open,high,low,close,volume\r\n", "text/csv")
    if fault is Fault.EMPTY_SERIES:
        fn = Function(function) if function in _FUNCTIONS else Function.DAILY
        return Reply(200, render_json(symbol, fn, {}, interval=params.get("interval")))
    if function not in _DATA_FUNCTIONS:
        function = Function.DAILY.value
    json_params = {**params, "datatype": "json"}
    if fault is Fault.WRONG_SYMBOL:
        other = "MSFT" if symbol != "MSFT" else "IBM"
        return data(function, symbol, json_params, other)
    answer = data(function, symbol, json_params if fault is Fault.TRUNCATED_JSON else params, "")
    if fault is Fault.TRUNCATED_JSON:
        return Reply(200, answer.body[: len(answer.body) // 2])
    return replace(answer, delay=rule.delay)  # TIMEOUT: late, after the client gave up
