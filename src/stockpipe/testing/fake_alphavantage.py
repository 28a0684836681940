"""A fake Alpha Vantage server: real HTTP on 127.0.0.1, deterministic payloads for any symbol,
and switches for every failure the real service produces.

In-process: `with FakeAlphaVantage() as fake: ... fake.url ...`. As a process (docker compose
smoke test, benchmarks, a local demo):

    python -m stockpipe.testing.fake_alphavantage --host 127.0.0.1 --port 8765

then point ALPHAVANTAGE_BASE_URL at the printed URL. Steer a running server over HTTP:
POST /_control/{reset,configure,fault,series,body,prerender,actions,missing,listing} with a
JSON object, GET /_control/calls. SPLITS and DIVIDENDS are served too (see
stockpipe.testing.corporate_actions): the daily series, adjusted close included, follows each
symbol's actions. `missing` names sessions the vendor has no bar for (a halted stock).
LISTING_STATUS serves a universe that changes with the fake's date (listing_size generated
companies, plus `listing` ones; stockpipe.testing.listings), and bars follow it.
"""

from __future__ import annotations

import argparse
import logging
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

from stockpipe.alphavantage.actions import ActionFunction
from stockpipe.alphavantage.series import INTRADAY_INTERVALS, Function
from stockpipe.market_calendar import latest_completed_session
from stockpipe.testing import faults
from stockpipe.testing.corporate_actions import NO_OVERRIDE, ActionOverride, as_rows
from stockpipe.testing.faults import Fault, FaultRule
from stockpipe.testing.http import Reply, serve
from stockpipe.testing.listings import (
    ListedCompany,
    ListingBook,
    companies_from,
    generated_companies,
    listing_reply,
    sessions_outside,
)
from stockpipe.testing.payloads import (
    _sessions,
    action_rows,
    generate_series,
    render_csv,
    render_json,
)

log = logging.getLogger(__name__)
ACTION_FUNCTIONS = {f.value for f in ActionFunction}
FUNCTIONS = {f.value for f in Function} | ACTION_FUNCTIONS
LISTING_STATUS = "LISTING_STATUS"
# Rendered data answers kept (a compact daily answer is about 17 KB; generating a symbol's
# history costs tens of milliseconds, more than the benchmarks' whole per-call budget).
RENDER_CACHE_SIZE = 4096
_TEMPLATE_SYMBOL = "TEMPLATE"


@dataclass
class FakeConfig:
    valid_keys: frozenset[str] | None = None  # None: any non-empty key but "demo" is valid
    invalid_symbols: frozenset[str] = frozenset()  # plus any symbol starting with "INVALID"
    end_date: date | None = None  # None: the latest completed NYSE session
    history_length: int = 5000  # sessions in a `full` daily answer
    free_tier: bool = False  # True: premium endpoints/parameters answer like for a free key
    per_minute: int | None = None
    per_day: int | None = None
    listing_size: int = 0  # companies in the generated LISTING_STATUS universe
    listing_seed: int = 0
    delay: float = 0.0  # seconds before every answer (the API's latency)
    jitter: float = 0.0  # each answer's delay is drawn from delay +- jitter (uniform, >= 0)
    # Benchmarks: every symbol's generated series is the same bars (a template's, rendered once
    # per request shape, the symbol written into its Meta Data), so thousands of symbols cost
    # the fake nothing; tests keep each symbol's own bars.
    shared_payloads: bool = False


@dataclass(frozen=True)
class CallRecord:
    number: int
    time: float
    function: str
    symbol: str
    outputsize: str | None
    interval: str | None
    month: str | None
    datatype: str
    outcome: str


@dataclass
class _Custom:
    series: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, Reply] = field(default_factory=dict)
    actions: dict[str, ActionOverride] = field(default_factory=dict)  # by upper-case symbol
    missing: dict[str, frozenset[date]] = field(default_factory=dict)  # by upper-case symbol
    listed: tuple[ListedCompany, ...] = ()  # LISTING_STATUS companies besides generated ones


def _key(symbol: str, function: str | None) -> str:
    return f"{symbol.upper()}|{function or '*'}"


class FakeAlphaVantage:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self.host, self._port = host, port
        self._defaults = FakeConfig(**config)
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._new_call = threading.Condition(self._lock)
        # Rendered data answers by everything that shapes them (see prerender); kept on reset.
        self._prerendered: dict[tuple[object, ...], bytes] = {}
        self._rendered: OrderedDict[tuple[object, ...], Reply] = OrderedDict()
        self._jitter = random.Random(0x5EED)
        self.reset()

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeAlphaVantage:
        self._server, self._thread = serve(self.host, self._port, self)
        return self

    def stop(self) -> None:
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAlphaVantage:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1]) if self._server else self._port

    @property
    def api_key(self) -> str:
        """A key this server accepts."""
        keys = self.config.valid_keys
        return sorted(keys)[0] if keys else "test-key"

    @property
    def url(self) -> str:
        """The /query endpoint: what ALPHAVANTAGE_BASE_URL should be."""
        return f"http://{self.host}:{self.port}/query"

    # ---- control API -----------------------------------------------------------------
    def reset(self) -> None:
        """Back to the construction-time configuration; aborts answers still waiting."""
        with self._lock:
            old = getattr(self, "_wake", None)
            if old is not None:
                old.set()
            self._wake = threading.Event()
            self.config = replace(self._defaults)
            self._rules: list[FaultRule] = []
            self._custom = _Custom()
            self._calls: list[CallRecord] = []
            self._recent: dict[str, deque[float]] = {}
            self._arrived = time.monotonic()
            self._per_key_day: dict[str, int] = {}

    def configure(self, **changes: Any) -> None:
        for name in ("valid_keys", "invalid_symbols"):
            if changes.get(name) is not None:
                changes[name] = frozenset(changes[name])
        if isinstance(changes.get("end_date"), str):
            changes["end_date"] = date.fromisoformat(changes["end_date"])
        with self._lock:
            self.config = replace(self.config, **changes)

    def set_limits(self, per_minute: int | None = None, per_day: int | None = None) -> None:
        self.configure(per_minute=per_minute, per_day=per_day)

    def set_delay(self, seconds: float) -> None:
        self.configure(delay=seconds)

    def inject(
        self,
        fault: Fault | str,
        *,
        symbol: str | None = None,
        function: Function | str | None = None,
        on_call: int | None = None,
        times: int | None = None,
        retry_after: float | None = None,
        delay: float = 10.0,
    ) -> None:
        """Answer with `fault` always, for a symbol/function, on the Nth call or N times."""
        rule = FaultRule(
            Fault(fault), symbol, str(function) if function else None, on_call, times, retry_after
        )
        rule.delay = delay
        with self._lock:
            self._rules.append(rule)

    def set_series(
        self,
        symbol: str,
        function: Function | str,
        series: dict[str, dict[str, str]],
        *,
        time_zone: str = "US/Eastern",
    ) -> None:
        """Serve these bars (timestamp -> JSON field -> value, newest first), JSON or CSV."""
        with self._lock:
            self._custom.series[_key(symbol, str(function))] = series
            self._custom.zones[_key(symbol, str(function))] = time_zone

    def set_actions(
        self,
        symbol: str,
        splits: list[dict[str, str]] | None = None,
        dividends: list[dict[str, str]] | None = None,
    ) -> None:
        """Serve these SPLITS / DIVIDENDS objects (exactly, newest first) for a symbol from now
        on, and make its daily series follow them; None keeps that kind as it is. Calling it
        again restates them (a corrected amount, a removed split)."""
        with self._lock:
            current = self._custom.actions.get(symbol.upper(), NO_OVERRIDE)
            self._custom.actions[symbol.upper()] = ActionOverride(
                current.splits if splits is None else as_rows(splits),
                current.dividends if dividends is None else as_rows(dividends),
            )

    def set_missing_sessions(self, symbol: str, days: Iterable[date | str]) -> None:
        """Sessions this vendor has no bar for, for a symbol (a halted stock), from now on:
        every series it serves lacks them. An empty list gives them back."""
        missing = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in days)
        with self._lock:
            if missing:
                self._custom.missing[symbol.upper()] = missing
            else:
                self._custom.missing.pop(symbol.upper(), None)

    def set_listing(self, companies: Iterable[ListedCompany | dict[str, Any]]) -> None:
        """LISTING_STATUS companies of a test, besides the generated `listing_size` ones (a
        ticker may appear twice: a re-used one); their bars follow their listing dates."""
        chosen = companies_from(companies)
        with self._lock:
            self._custom.listed = chosen

    def _book(self) -> ListingBook:
        key = (self.config.listing_size, self.config.listing_seed, self._custom.listed)
        if getattr(self, "_book_key", None) != key:
            generated = generated_companies(key[0], key[1])
            self._book_cache, self._book_key = ListingBook(generated + key[2]), key
        return self._book_cache

    def _today(self) -> date:
        return self.config.end_date or latest_completed_session()

    def _unlisted(self, symbol: str) -> bool:
        """A ticker of the listing book that no company holds yet on the fake's day."""
        book = self._book()
        return book.knows(symbol) and book.holder(symbol, self._today()) is None

    def _missing(self, symbol: str, end: date) -> frozenset[date]:
        """Sessions a symbol has no bar for: halted ones, and those outside its listing."""
        halted = self._custom.missing.get(symbol, frozenset())
        company = self._book().holder(symbol, end) if self._book() else None
        return halted if company is None else halted | sessions_outside(company, _sessions(end))

    def set_body(
        self,
        symbol: str,
        body: bytes | str,
        *,
        function: Function | str | None = None,
        status: int = 200,
        content_type: str = "application/json",
    ) -> None:
        """Serve this exact body for a symbol (and function, None = every function)."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._custom.bodies[_key(symbol, str(function) if function else None)] = Reply(
                status, data, content_type
            )

    def prerender(
        self,
        symbols: list[str],
        function: str = Function.DAILY.value,
        outputsize: str = "full",
        interval: str | None = None,
        extended_hours: str | None = None,
    ) -> None:
        """Render these symbols' JSON data answers now and serve them from memory from then on
        (benchmarks: the real API builds its payloads on its own machines, not on the cores
        being measured). Replaces the previous set; an empty list drops them all. Intraday
        answers need the interval (and extended_hours as the request spells it)."""
        params = {"outputsize": outputsize}
        if interval is not None:
            params["interval"] = interval
        if extended_hours is not None:
            params["extended_hours"] = extended_hours
        rendered = {
            self._render_key(function, symbol.upper(), params): self._render(
                function, symbol.upper(), params
            ).body
            for symbol in symbols
        }
        with self._lock:
            self._prerendered = rendered

    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def wait_for_calls(self, count: int, timeout: float = 5.0) -> bool:
        """Block until `count` /query calls were logged (a condition, not a sleep)."""
        with self._new_call:
            return self._new_call.wait_for(lambda: len(self._calls) >= count, timeout)

    # ---- answering -------------------------------------------------------------------
    def answer(self, query: str) -> Reply:
        """The reply to one GET /query (thread-safe); called by the HTTP handler."""
        # The call's time is its arrival, taken before the lock: a reply being rendered for
        # another call must not bunch the calls that wait behind it (the log and the per-minute
        # window would see them closer together than they came).
        arrived, arrived_monotonic = time.time(), time.monotonic()
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        function = params.get("function", "")
        symbol = params.get("symbol", "").upper()
        with self._lock:
            number = len(self._calls) + 1
            self._arrived = arrived_monotonic
            reply, outcome = self._decide(number, function, symbol, params)
            if reply.delay is None and (self.config.delay or self.config.jitter):
                spread = self.config.jitter
                reply.delay = max(0.0, self.config.delay + self._jitter.uniform(-spread, spread))
            reply.wake = self._wake
            self._calls.append(
                CallRecord(
                    number,
                    arrived,
                    function,
                    symbol,
                    params.get("outputsize"),
                    params.get("interval"),
                    params.get("month"),
                    params.get("datatype", "json"),
                    outcome,
                )
            )
            self._new_call.notify_all()
        return reply

    def _decide(
        self, number: int, function: str, symbol: str, params: dict[str, str]
    ) -> tuple[Reply, str]:
        for rule in self._rules:
            if rule.matches(number, symbol, function):
                if rule.times is not None:
                    rule.times -= 1
                return faults.fault_reply(
                    rule, function, symbol, params, self._data
                ), rule.fault.value
        config = self.config
        apikey = params.get("apikey", "")
        # Like the real service: "demo" works for IBM only, whatever else is configured.
        if apikey == "demo":
            if symbol != "IBM":
                return self._notice(Fault.DEMO_KEY), Fault.DEMO_KEY.value
        elif not apikey or (config.valid_keys is not None and apikey not in config.valid_keys):
            return self._notice(Fault.INVALID_KEY), Fault.INVALID_KEY.value
        limited = self._throttle(apikey)
        if limited is not None:
            return self._notice(limited), limited.value
        if function == LISTING_STATUS:
            return listing_reply(self._book(), params, self._today())
        if (
            function not in FUNCTIONS
            or not symbol
            or symbol.startswith("INVALID")
            or symbol in config.invalid_symbols
            or self._unlisted(symbol)
            or (function == Function.INTRADAY and params.get("interval") not in INTRADAY_INTERVALS)
        ):
            body = faults.notice_body("Error Message", faults.invalid_call(function))
            return Reply(200, body), Fault.INVALID_CALL.value
        if config.free_tier and apikey != "demo":
            if function in (Function.DAILY_ADJUSTED, Function.INTRADAY):
                return self._notice(Fault.PREMIUM_ENDPOINT), Fault.PREMIUM_ENDPOINT.value
            if params.get("outputsize") == "full":
                body = faults.notice_body("Information", faults.premium_parameter(function))
                return Reply(200, body), Fault.PREMIUM_PARAMETER.value
        for key in (_key(symbol, function), _key(symbol, None)):
            if key in self._custom.bodies:
                return replace(self._custom.bodies[key]), "custom_body"
        return self._data(function, symbol, params), "data"

    def _throttle(self, apikey: str) -> Fault | None:
        """Per-key limits the way Alpha Vantage enforces them: HTTP 200 and a notice."""
        config = self.config
        now = self._arrived
        recent = self._recent.setdefault(apikey, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        recent.append(now)
        spent = self._per_key_day[apikey] = self._per_key_day.get(apikey, 0) + 1
        if config.per_day is not None and spent > config.per_day:
            return Fault.RATE_LIMIT_DAY
        if config.per_minute is not None and len(recent) > config.per_minute:
            return Fault.RATE_LIMIT_MINUTE
        return None

    def _notice(self, fault: Fault) -> Reply:
        key, text = faults.NOTICE_FAULTS[fault]
        return Reply(200, faults.notice_body(key, text))

    def _render_key(
        self, function: str, symbol: str, params: dict[str, str], as_symbol: str = ""
    ) -> tuple[object, ...]:
        end = self.config.end_date or latest_completed_session()
        csv = params.get("datatype") == "csv"
        shape = (params.get(name) for name in ("outputsize", "interval", "month", "extended_hours"))
        # An intraday answer grows as bars end (never one after now): a cached one lasts a minute.
        minute = (
            datetime.now(UTC).replace(second=0, microsecond=0)
            if function == Function.INTRADAY
            else None
        )
        return (function, symbol, as_symbol, end, self.config.history_length, csv, minute, *shape)

    def _data(
        self, function: str, symbol: str, params: dict[str, str], as_symbol: str = ""
    ) -> Reply:
        custom = (
            _key(symbol, function) in self._custom.series
            or symbol in self._custom.actions
            or symbol in self._custom.missing
            or self._book().knows(symbol)
        )
        if custom:
            return self._render(function, symbol, params, as_symbol)
        key = self._render_key(function, symbol, params, as_symbol)
        if self._prerendered:
            body = self._prerendered.get(key)
            if body is not None:
                return Reply(200, body)
        if self.config.shared_payloads and function not in ACTION_FUNCTIONS:
            return self._shared(function, symbol, params, as_symbol)
        cached = self._rendered.get(key)
        if cached is None:
            cached = self._rendered[key] = self._render(function, symbol, params, as_symbol)
            while len(self._rendered) > RENDER_CACHE_SIZE:
                self._rendered.popitem(last=False)
        else:
            self._rendered.move_to_end(key)
        return replace(cached)

    def _shared(self, function: str, symbol: str, params: dict[str, str], as_symbol: str) -> Reply:
        """The template's answer of this shape, with `symbol` in its Meta Data."""
        key = self._render_key(function, _TEMPLATE_SYMBOL, params)
        template = self._rendered.get(key)
        if template is None:
            template = self._rendered[key] = self._render(function, _TEMPLATE_SYMBOL, params)
        name = (as_symbol or symbol).encode()
        if params.get("datatype") == "csv":
            return replace(template)
        return replace(template, body=template.body.replace(b'"TEMPLATE"', b'"' + name + b'"', 1))

    def _render(
        self, function: str, symbol: str, params: dict[str, str], as_symbol: str = ""
    ) -> Reply:
        end = self.config.end_date or latest_completed_session()
        actions = self._custom.actions.get(symbol, NO_OVERRIDE)
        if function in ACTION_FUNCTIONS:
            splits, dividends = action_rows(symbol, end, actions)
            data = splits if function == ActionFunction.SPLITS else dividends
            return Reply(200, orjson.dumps({"symbol": as_symbol or symbol, "data": data}))
        fn = Function(function)
        custom_key = _key(symbol, function)
        interval = params.get("interval") if fn is Function.INTRADAY else None
        outputsize = params.get("outputsize")
        if custom_key in self._custom.series:
            series = self._custom.series[custom_key]
            zone = self._custom.zones[custom_key]
        else:
            series = generate_series(
                symbol,
                fn,
                end=end,
                history_length=self.config.history_length,
                outputsize=outputsize,
                interval=interval,
                month=params.get("month"),
                # Alpha Vantage's default is true; only "false" switches to regular hours.
                extended_hours=params.get("extended_hours", "true").lower() != "false",
                actions=actions,
                missing=self._missing(symbol, end),
                until=datetime.now(UTC),  # the real API serves no bar after now
            )
            zone = "US/Eastern"
        if params.get("datatype") == "csv":
            return Reply(200, render_csv(fn, series), "text/csv")
        body = render_json(
            as_symbol or symbol,
            fn,
            series,
            interval=interval,
            outputsize=outputsize,
            time_zone=zone,
        )
        return Reply(200, body)

    # ---- HTTP control ----------------------------------------------------------------
    def control(self, method: str, name: str, payload: dict[str, Any]) -> Reply:
        if method == "GET" and name == "calls":
            return Reply(200, orjson.dumps([asdict(c) for c in self.calls()]))
        if method == "GET" and name == "health":
            return Reply(200, b'{"ok": true}')
        actions: dict[str, Callable[[], None]] = {
            "reset": self.reset,
            "configure": lambda: self.configure(**payload),
            "fault": lambda: self.inject(**payload),
            "series": lambda: self.set_series(**payload),
            "body": lambda: self.set_body(**payload),
            "prerender": lambda: self.prerender(**payload),
            "actions": lambda: self.set_actions(**payload),
            "missing": lambda: self.set_missing_sessions(**payload),
            "listing": lambda: self.set_listing(**payload),
        }
        if method != "POST" or name not in actions:
            return Reply(404, b'{"error": "unknown control endpoint"}')
        try:
            actions[name]()
        except (TypeError, ValueError) as exc:
            return Reply(400, orjson.dumps({"error": str(exc)}))
        return Reply(200, b'{"ok": true}')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--valid-key", action="append", help="accept only these keys")
    parser.add_argument("--end-date", type=date.fromisoformat)
    parser.add_argument("--history-length", type=int, default=5000)
    parser.add_argument("--free-tier", action="store_true")
    parser.add_argument("--per-minute", type=int, help="answer the minute's notice past this")
    parser.add_argument("--per-day", type=int)
    parser.add_argument("--listing-size", type=int, default=0, help="LISTING_STATUS companies")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before every answer (default 0)"
    )
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="each answer's latency +- up to this (uniform)"
    )
    parser.add_argument(
        "--shared-payloads",
        action="store_true",
        help="every symbol gets the same generated bars (benchmarks: the fake costs nothing)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    fake = FakeAlphaVantage(
        args.host,
        args.port,
        valid_keys=frozenset(args.valid_key) if args.valid_key else None,
        end_date=args.end_date,
        history_length=args.history_length,
        free_tier=args.free_tier,
        per_minute=args.per_minute,
        per_day=args.per_day,
        listing_size=args.listing_size,
        delay=args.latency,
        jitter=args.jitter,
        shared_payloads=args.shared_payloads,
    ).start()
    # The one line a person (or a script) needs, on stdout: where to point the pipeline.
    print(f"ALPHAVANTAGE_BASE_URL={fake.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
