-- Weekly, monthly and intraday bars, each in its own table with the columns of stock_data, so
-- `SELECT * FROM stock_data_weekly` reads like `SELECT * FROM stock_data`.
--
-- Weekly and monthly: exactly one row per symbol and period. Alpha Vantage dates the unfinished
-- current week (month) by its latest trading day, so that bar's date moves every day until the
-- period closes: keyed on the period (its first calendar day, `period_start`), the moving bar
-- replaces the period's row instead of adding one. `provisional` is TRUE while the period has
-- sessions still to come (or the bar's own session had not closed when it was fetched).
CREATE TABLE stock_data_weekly (
    id BIGSERIAL PRIMARY KEY,
    symbol TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    open NUMERIC,
    high NUMERIC,
    low NUMERIC,
    close NUMERIC,
    volume BIGINT,
    raw JSONB,
    adjusted_close NUMERIC,
    dividend_amount NUMERIC,
    split_coefficient NUMERIC,
    ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    period_start DATE NOT NULL,
    provisional BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT stock_data_weekly_symbol_period_key UNIQUE (symbol, period_start),
    CONSTRAINT stock_data_weekly_symbol_not_blank CHECK (symbol <> ''),
    CONSTRAINT stock_data_weekly_volume_not_negative CHECK (volume >= 0),
    -- A week starts on Monday (ISODOW 1).
    CONSTRAINT stock_data_weekly_period_is_monday CHECK (extract(isodow FROM period_start) = 1)
);
CREATE INDEX stock_data_weekly_updated_at_idx ON stock_data_weekly (updated_at);

CREATE TABLE stock_data_monthly (
    id BIGSERIAL PRIMARY KEY,
    symbol TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    open NUMERIC,
    high NUMERIC,
    low NUMERIC,
    close NUMERIC,
    volume BIGINT,
    raw JSONB,
    adjusted_close NUMERIC,
    dividend_amount NUMERIC,
    split_coefficient NUMERIC,
    ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    period_start DATE NOT NULL,
    provisional BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT stock_data_monthly_symbol_period_key UNIQUE (symbol, period_start),
    CONSTRAINT stock_data_monthly_symbol_not_blank CHECK (symbol <> ''),
    CONSTRAINT stock_data_monthly_volume_not_negative CHECK (volume >= 0),
    CONSTRAINT stock_data_monthly_period_is_first_day CHECK (extract(day FROM period_start) = 1)
);
CREATE INDEX stock_data_monthly_updated_at_idx ON stock_data_monthly (updated_at);

-- Intraday: `ts` is the bar's start, converted from Alpha Vantage's naive US/Eastern wall time
-- to UTC (exact across both DST changes). Re-fetching an overlapping window only finds the
-- same (symbol, interval, ts) keys. `fingerprint` as in stock_data (migration 0005), so an
-- unchanged re-fetch is recognised without sending the rows.
CREATE TABLE stock_data_intraday (
    id BIGSERIAL PRIMARY KEY,
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    open NUMERIC,
    high NUMERIC,
    low NUMERIC,
    close NUMERIC,
    volume BIGINT,
    raw JSONB,
    adjusted_close NUMERIC,
    dividend_amount NUMERIC,
    split_coefficient NUMERIC,
    ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    fingerprint BIGINT GENERATED ALWAYS AS ((
        'x' || left(md5(
            coalesce(open::text, '') || '|' || coalesce(high::text, '') || '|'
            || coalesce(low::text, '') || '|' || coalesce(close::text, '') || '|'
            || coalesce(volume::text, '') || '|' || coalesce(adjusted_close::text, '') || '|'
            || coalesce(dividend_amount::text, '') || '|'
            || coalesce(split_coefficient::text, '') || '|' || coalesce(raw::text, '')
        ), 16)
    )::bit(64)::bigint) STORED,
    CONSTRAINT stock_data_intraday_symbol_interval_ts_key UNIQUE (symbol, interval, ts),
    CONSTRAINT stock_data_intraday_symbol_not_blank CHECK (symbol <> ''),
    CONSTRAINT stock_data_intraday_volume_not_negative CHECK (volume >= 0),
    CONSTRAINT stock_data_intraday_interval_known
        CHECK (interval IN ('1min', '5min', '15min', '30min', '60min'))
);
CREATE INDEX stock_data_intraday_updated_at_idx ON stock_data_intraday (updated_at);
