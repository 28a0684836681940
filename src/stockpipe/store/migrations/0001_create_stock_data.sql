-- The table of the original specification, exactly: `SELECT * FROM stock_data` shows these
-- columns first, and UNIQUE (symbol, ts) is what makes every load idempotent.
CREATE TABLE stock_data (
    id BIGSERIAL PRIMARY KEY,
    symbol TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    open NUMERIC,
    high NUMERIC,
    low NUMERIC,
    close NUMERIC,
    volume BIGINT,
    raw JSONB,
    CONSTRAINT stock_data_symbol_ts_key UNIQUE (symbol, ts)
);
