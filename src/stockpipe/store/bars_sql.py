"""The SQL of one bars table, built from its `BarsTable` spec (stockpipe.series) once.

`stock_data`'s statements are exactly the ones the upsert always ran; the other tables differ
only where their spec does: the key rows merge on, the columns they add (`interval`, or
`period_start` and `provisional`), and whether a `fingerprint` column lets unchanged rows be
recognised without sending them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from stockpipe.series import BarsTable

# Lock namespace for pg_advisory_xact_lock(int, int); the migration lock uses the bigint form.
SYMBOL_LOCK_CLASS = 0x53504C44
BASE_COLUMNS = (
    "symbol", "ts", "open", "high", "low", "close", "volume", "raw",
    "adjusted_close", "dividend_amount", "split_coefficient",
)  # fmt: skip
BASE_VALUE_COLUMNS = (
    "open", "high", "low", "close", "volume", "raw",
    "adjusted_close", "dividend_amount", "split_coefficient",
)  # fmt: skip
# COPY text order: the values before `raw` never need escaping; the table's extras come last.
BASE_COPY_COLUMNS = (
    "symbol", "ts", "raw", "open", "high", "low", "close", "volume",
    "adjusted_close", "dividend_amount", "split_coefficient",
)  # fmt: skip
_EXTRA_TYPES = {"interval": "TEXT", "period_start": "DATE", "provisional": "BOOLEAN"}


@dataclass(frozen=True, slots=True)
class TableSql:
    table: BarsTable
    stage: str  # the per-connection temp table merges go through
    copy_columns: str
    lock_symbols: str
    stored_max: str  # (symbol, max order value) per symbol; intraday also takes the interval
    stored_fingerprints: str
    create_stage: str
    merge: str


@cache
def table_sql(table: BarsTable) -> TableSql:
    name, extras = table.name, table.extra_columns
    columns = (*BASE_COLUMNS, *extras)
    # A per-period row is replaced by the period's moving bar: its date and flag are values.
    values = (*BASE_VALUE_COLUMNS, *(("ts", "provisional") if table.per_period else ()))
    key = table.key
    stage = "stockpipe_stage" if name == "stock_data" else f"stockpipe_stage_{name}"
    interval_filter = " AND interval = %s" if table.per_interval else ""
    # stock_data keeps its lock keys (hashtext of the symbol); other tables prefix their name.
    lock_text = "s" if name == "stock_data" else f"'{name}:' || s"
    stage_columns = ", ".join(f"{c} {_EXTRA_TYPES[c]}" for c in extras)
    if table.partitioned:
        # A partitioned table's RETURNING cannot read xmax after ON CONFLICT: the new keys are
        # counted instead, by a read in the same statement, which sees the table as it was
        # before the INSERT (the per-symbol lock keeps our other loaders out meanwhile).
        returning = "1"
        counts = f"""SELECT n.new_keys, (SELECT count(*) FROM written) - n.new_keys
FROM (SELECT count(*) AS new_keys FROM {stage} AS s WHERE NOT EXISTS (
    SELECT 1 FROM {name} AS t WHERE {" AND ".join(f"t.{c} = s.{c}" for c in key)})) AS n"""
    else:
        returning = "(xmax = 0) AS inserted"
        counts = (
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
            " FROM written"
        )
    return TableSql(
        table=table,
        stage=stage,
        copy_columns=", ".join((*BASE_COPY_COLUMNS, *extras)),
        lock_symbols=f"""
SELECT pg_advisory_xact_lock({SYMBOL_LOCK_CLASS}, hashtext({lock_text}))
FROM (SELECT DISTINCT s FROM unnest(%s::text[]) AS s ORDER BY s) AS sorted""",
        stored_max=f"""
SELECT s, (SELECT max({table.order_column}) FROM {name} WHERE symbol = s{interval_filter})
FROM unnest(%s::text[]) AS s""",
        stored_fingerprints=f"""
SELECT ts, fingerprint FROM {name} WHERE symbol = %s{interval_filter} AND ts BETWEEN %s AND %s""",
        create_stage=f"""
CREATE TEMP TABLE IF NOT EXISTS {stage} (
    symbol TEXT, ts TIMESTAMPTZ, open NUMERIC, high NUMERIC, low NUMERIC, close NUMERIC,
    volume BIGINT, raw JSONB, adjusted_close NUMERIC, dividend_amount NUMERIC,
    split_coefficient NUMERIC{", " + stage_columns if stage_columns else ""}
) ON COMMIT DELETE ROWS""",
        merge=f"""
WITH written AS (
    INSERT INTO {name} ({", ".join(columns)})
    SELECT {", ".join(f"s.{c}" for c in columns)} FROM {stage} AS s
    -- Read-only pre-filter: identical rows never reach ON CONFLICT, which would lock (and so
    -- WAL-log) every conflicting row even when its WHERE then skips the update.
    WHERE NOT EXISTS (
        SELECT 1 FROM {name} AS t
        WHERE {" AND ".join(f"t.{c} = s.{c}" for c in key)}
          AND ({", ".join(f"t.{c}" for c in values)})
              IS NOT DISTINCT FROM ({", ".join(f"s.{c}" for c in values)})
    )
    ON CONFLICT ({", ".join(key)}) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in values)},
        updated_at = now()
    WHERE ({", ".join(f"{name}.{c}" for c in values)})
        IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in values)})
    RETURNING {returning}
)
{counts}""",
    )
