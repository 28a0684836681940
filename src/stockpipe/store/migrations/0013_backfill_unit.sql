-- The backfill (stockpipe.ingest.backfill): one row per unit of history a symbol's series
-- needs once (daily `full`, weekly/monthly full history, one intraday month). A unit is `done`
-- once fetched and stored, so a resumed backfill never asks for it again; `unreachable` when
-- this key cannot have it (premium), so it is reported once, not every day; `failed` is tried
-- again by the next run. Units not yet attempted (or deferred by the budget) have no row.
CREATE TABLE backfill_unit (
    symbol          TEXT        NOT NULL,
    series          TEXT        NOT NULL,  -- daily, weekly, monthly, intraday
    unit            TEXT        NOT NULL,  -- full, compact, or '<interval> <YYYY-MM>' (intraday)
    status          TEXT        NOT NULL CHECK (status IN ('done', 'unreachable', 'failed')),
    calls           INTEGER     NOT NULL DEFAULT 0,  -- every call spent on it, all runs
    rows_inserted   INTEGER     NOT NULL DEFAULT 0,
    rows_updated    INTEGER     NOT NULL DEFAULT 0,
    key_fingerprint TEXT        NOT NULL,  -- the key that got it (stockpipe.ingest.quota)
    attempted_at    TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,           -- when it became done or unreachable
    run_id          TEXT        NOT NULL,
    message         TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (symbol, series, unit)
);
