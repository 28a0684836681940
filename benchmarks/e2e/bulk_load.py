"""1. Bulk load: the ingest step (fetch + parse + upsert) against a plain COPY of the same rows
(the ceiling) and against the usual script (requests, json.loads, execute_values + ON CONFLICT).

All three start from an empty, freshly migrated `stock_data` and take their bars from the same
fake server at full speed (no spacing, no per-minute limit), which serves payloads it rendered
before the timed phases (`prerender`), so none of them pays for the fake's payload generation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
import psycopg
import psycopg2
import psycopg2.extras
import requests

from benchmarks.e2e.harness import API_KEY, UNLIMITED, Bench, Figure, row_count, symbols
from stockpipe.alphavantage import Function, SeriesRequest, parse_json
from stockpipe.bars import Bar
from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.results import SymbolStatus
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database

_COLUMNS = (
    "symbol, ts, open, high, low, close, volume, raw,"
    " adjusted_close, dividend_amount, split_coefficient"
)
_USUAL_SQL = f"""
INSERT INTO stock_data ({_COLUMNS}) VALUES %s
ON CONFLICT (symbol, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, raw = EXCLUDED.raw"""


def ingest_rate(bench: Bench, names: Sequence[str]) -> tuple[float, int]:
    """Seconds and rows of one library ingest of `names` into a fresh database."""
    conninfo = bench.fresh_database("ingest")
    bench.fake.reset()
    db = Database.from_conninfo(conninfo, migrate=False)
    settings = bench.settings(conninfo, **UNLIMITED)
    with IngestContext(settings, db, owns_db=True) as ctx:
        started = time.perf_counter()
        summary = ingest_symbols(ctx, names)
        seconds = time.perf_counter() - started
    not_loaded = [r for r in summary.results if r.status is not SymbolStatus.LOADED]
    if not_loaded:
        raise RuntimeError(f"ingest did not load everything: {not_loaded[:3]}")
    return seconds, row_count(conninfo)


def _copy_text(bars: Sequence[Bar]) -> bytes:
    """The rows in COPY's text format, so the timed part is the database's work alone."""

    def cell(value: object) -> str:
        return r"\N" if value is None else str(value)

    lines = []
    for b in bars:
        raw = b.raw.decode().replace("\\", "\\\\")
        lines.append(
            "\t".join(
                (
                    b.symbol,
                    b.ts.isoformat(),
                    str(b.open),
                    str(b.high),
                    str(b.low),
                    str(b.close),
                    str(b.volume),
                    raw,
                    cell(b.adjusted_close),
                    cell(b.dividend_amount),
                    cell(b.split_coefficient),
                )
            )
        )
    return ("\n".join(lines) + "\n").encode()


def copy_ceiling(bench: Bench, names: Sequence[str]) -> tuple[float, float, int]:
    """Seconds spent inside COPY (one per symbol, each its own transaction, like the ingest),
    and seconds the fake server took to serve the payloads (HTTP alone, for context)."""
    conninfo = bench.fresh_database("copy")
    bench.fake.reset()
    now = datetime.now(UTC)
    spent = fetching = 0.0
    with psycopg.connect(conninfo) as conn:
        for symbol in names:
            request = SeriesRequest(symbol, Function.DAILY, outputsize="full")
            started = time.perf_counter()
            body = bench.fake.get(symbol)
            fetching += time.perf_counter() - started
            bars = parse_json(orjson.loads(body), request, now=now).bars
            data = _copy_text(bars)
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY stock_data ({_COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(data)
            spent += time.perf_counter() - started
    return spent, fetching, row_count(conninfo)


def usual_approach(bench: Bench, names: Sequence[str]) -> tuple[float, int]:
    """The script people write first: a loop of requests.get, json.loads, execute_values."""
    conninfo = bench.fresh_database("usual")
    bench.fake.reset()
    conn = psycopg2.connect(conninfo)
    started = time.perf_counter()
    try:
        for symbol in names:
            params = {
                "function": "TIME_SERIES_DAILY",
                "symbol": symbol,
                "outputsize": "full",
                "apikey": API_KEY,
            }
            data = json.loads(requests.get(bench.fake.url, params=params, timeout=60).text)
            rows = [
                (
                    symbol,
                    day,
                    float(v["1. open"]),
                    float(v["2. high"]),
                    float(v["3. low"]),
                    float(v["4. close"]),
                    int(v["5. volume"]),
                    psycopg2.extras.Json(v),
                    None,
                    None,
                    None,
                )
                for day, v in data["Time Series (Daily)"].items()
            ]
            with conn.cursor() as cur:
                psycopg2.extras.execute_values(cur, _USUAL_SQL, rows)
            conn.commit()
    finally:
        conn.close()
    return time.perf_counter() - started, row_count(conninfo)


def run(bench: Bench) -> list[Figure]:
    names = symbols("L", bench.scale.symbols)
    latest_completed_session()  # loads the exchange calendar (~1 s, once per process)
    # Every method gets the same ready-made bytes: generating a 5,000-bar payload costs the
    # fake ~45 ms of CPU on the machine under test, which the real API spends elsewhere.
    bench.fake.prerender(names)
    try:
        ingest_s, ingest_rows = ingest_rate(bench, names)
        copy_s, fetch_s, copy_rows = copy_ceiling(bench, names)
        usual_s, usual_rows = usual_approach(bench, names)
    finally:
        bench.fake.prerender([])
    if not ingest_rows == copy_rows == usual_rows:
        raise RuntimeError(f"row counts differ: {ingest_rows} / {copy_rows} / {usual_rows}")
    ingest, ceiling, usual = ingest_rows / ingest_s, copy_rows / copy_s, usual_rows / usual_s
    label = f"{len(names)} x {bench.scale.bars:,} bars"
    notes = {"rows": ingest_rows, "ingest_s": ingest_s, "copy_s": copy_s, "usual_s": usual_s}
    fetch_only = copy_rows / fetch_s
    return [
        Figure(
            "1 bulk load",
            f"ingest rows/s, {label}",
            f"{ingest:,.0f}",
            f"plain COPY {ceiling:,.0f}",
            ingest / ceiling,
            ">= 0.6x",
            ingest / ceiling >= 0.6,
            notes,
        ),
        Figure(
            "1 bulk load",
            f"ingest rows/s, {label}",
            f"{ingest:,.0f}",
            f"usual approach {usual:,.0f}",
            ingest / usual,
            ">= 4x",
            ingest / usual >= 4,
            notes,
        ),
        Figure(
            "1 bulk load",
            "fetch only (HTTP from the fake), rows/s",
            f"{fetch_only:,.0f}",
            f"ingest {ingest:,.0f}",
            ingest / fetch_only,
            "(context)",
            None,
        ),
    ]
