"""Intraday load: the first load of a month of 1min bars with extended hours per symbol
(`full`: the trailing 30 days, ~20,000 bars a call) through the ingest step, against a plain
COPY of the same rows into the same table (stock_data_intraday), one transaction per symbol.

Both take their bars from the same fake server, which rendered the answers before the timed
phases; the COPY side's rows are parsed and printed as COPY text before its clock starts, so
its figure is the database's work alone (the ceiling).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
import psycopg

from benchmarks.e2e.harness import API_KEY, UNLIMITED, Bench, Figure, symbols
from stockpipe.alphavantage import Function, SeriesRequest, parse_json
from stockpipe.bars import Bar
from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.results import SymbolStatus
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database
from stockpipe.store.partitions import ensure_months, months_of

INTERVAL = "1min"
_COLUMNS = (
    "symbol, interval, ts, open, high, low, close, volume, raw,"
    " adjusted_close, dividend_amount, split_coefficient"
)
_SHAPE = {
    "function": Function.INTRADAY.value,
    "interval": INTERVAL,
    "extended_hours": "true",
    "outputsize": "full",
}


def _rows(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM stock_data_intraday").fetchone()
    return int(row[0]) if row else 0


def ingest_rate(bench: Bench, names: Sequence[str]) -> tuple[float, int]:
    conninfo = bench.fresh_database("intraday")
    bench.fake.reset()
    db = Database.from_conninfo(conninfo, migrate=False)
    settings = bench.settings(conninfo, STOCK_INTRADAY_INTERVAL=INTERVAL, **UNLIMITED)
    with IngestContext(settings, db, owns_db=True) as ctx:
        started = time.perf_counter()
        summary = ingest_symbols(ctx, names, series="intraday")
        seconds = time.perf_counter() - started
    wrong = [r for r in summary.results if r.status is not SymbolStatus.LOADED]
    if wrong or any(r.output_size != "full" for r in summary.results):
        raise RuntimeError(f"intraday ingest did not load everything with full: {wrong[:3]}")
    return seconds, _rows(conninfo)


def _copy_text(bars: Sequence[Bar]) -> bytes:
    def cell(value: object) -> str:
        return r"\N" if value is None else str(value)

    lines = [
        "\t".join(
            (
                b.symbol, b.interval, b.ts.isoformat(), str(b.open), str(b.high), str(b.low),
                str(b.close), str(b.volume), b.raw.decode().replace("\\", "\\\\"),
                cell(b.adjusted_close), cell(b.dividend_amount), cell(b.split_coefficient),
            )
        )
        for b in bars
    ]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def copy_ceiling(bench: Bench, names: Sequence[str]) -> tuple[float, int]:
    conninfo = bench.fresh_database("intraday_copy")
    bench.fake.reset()
    now = datetime.now(UTC)
    spent = 0.0
    params = {k: v for k, v in _SHAPE.items() if k != "function"}
    with psycopg.connect(conninfo) as conn:
        for symbol in names:
            response = bench.fake.session.get(
                bench.fake.url,
                params={**_SHAPE, "symbol": symbol, "apikey": API_KEY},
                timeout=120,
            )
            response.raise_for_status()
            request = SeriesRequest(
                symbol, Function.INTRADAY, outputsize="full", interval=INTERVAL,
                extended_hours=params["extended_hours"] == "true",
            )  # fmt: skip
            bars = parse_json(orjson.loads(response.content), request, now=now).bars
            data = _copy_text(bars)
            with conn.transaction():  # the monthly partitions the library makes before a load
                ensure_months(conn, months_of(bar.ts for bar in bars))
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY stock_data_intraday ({_COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(data)
            spent += time.perf_counter() - started
    return spent, _rows(conninfo)


def run(bench: Bench) -> list[Figure]:
    names = symbols("I", bench.scale.intraday_symbols)
    latest_completed_session()  # loads the exchange calendar (~1 s, once per process)
    bench.fake.prerender(names, **_SHAPE)
    try:
        ingest_s, ingest_rows = ingest_rate(bench, names)
        copy_s, copy_rows = copy_ceiling(bench, names)
    finally:
        bench.fake.prerender([])
    if ingest_rows != copy_rows:
        raise RuntimeError(f"row counts differ: {ingest_rows} / {copy_rows}")
    ingest, ceiling = ingest_rows / ingest_s, copy_rows / copy_s
    per_call = ingest_rows // max(1, len(names))
    return [
        Figure(
            "7 intraday load",
            f"ingest rows/s, {len(names)} x {per_call:,} {INTERVAL} bars (extended hours, full)",
            f"{ingest:,.0f}",
            f"plain COPY {ceiling:,.0f}",
            ingest / ceiling,
            ">= 0.8x",
            ingest / ceiling >= 0.8,
            {"rows": ingest_rows, "ingest_s": ingest_s, "copy_s": copy_s},
        )
    ]
