-- stockpipe database schema. GENERATED from src/stockpipe/store/migrations/ by
-- `python -m stockpipe.store.dump_schema`: do not edit by hand, add a migration instead.
-- Applying it records the migrations as applied, so stockpipe's start-up migration agrees.

BEGIN;

CREATE TABLE IF NOT EXISTS stockpipe_schema_migrations (
    version TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- 0001_create_stock_data.sql
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
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0001', 'create_stock_data', '858e708716330108c366558b814fe53da0122a47f3bcaf67b4cd8379cff9f1ac');

-- 0002_adjusted_fields_and_ingestion_times.sql
-- What the adjusted daily endpoint adds, and when each row was first stored and last changed.
-- Nullable adjusted fields: the free endpoint does not send them. updated_at moves only when
-- an upsert really changes the row (unchanged re-loads write nothing).
ALTER TABLE stock_data
    ADD COLUMN adjusted_close NUMERIC,
    ADD COLUMN dividend_amount NUMERIC,
    ADD COLUMN split_coefficient NUMERIC,
    ADD COLUMN ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- Rows an older release wrote with a blank symbol or negative volume would be bad data, but
-- must not block the upgrade: NOT VALID checks new rows only.
ALTER TABLE stock_data
    ADD CONSTRAINT stock_data_symbol_not_blank CHECK (symbol <> '') NOT VALID,
    ADD CONSTRAINT stock_data_volume_not_negative CHECK (volume >= 0) NOT VALID;

-- Downstream readers ask "which rows changed since my last sync?".
CREATE INDEX stock_data_updated_at_idx ON stock_data (updated_at);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0002', 'adjusted_fields_and_ingestion_times', 'c0fd3ae444164f0fac17e8adeb7858545b84bd0b9d476b4a8b538877700e3c89');

-- 0003_api_quota.sql
-- Shared API quota: every process and every concurrent run reads and writes these two tables,
-- so the daily budget and the call spacing hold across restarts and parallel runs.
-- Keys are identified by a short sha256 fingerprint; the API key itself is never stored.

-- One row per HTTP attempt, written BEFORE the call is made (a reservation), so two processes
-- can never spend more than the budget together. `outcome` is filled in once the reply is known
-- (NULL: the process died between reserving and reporting; the call still counts).
CREATE TABLE api_call_ledger (
    id              BIGSERIAL PRIMARY KEY,
    key_fingerprint TEXT        NOT NULL,
    called_at       TIMESTAMPTZ NOT NULL,
    symbol          TEXT,
    function        TEXT,
    outcome         TEXT
);

CREATE INDEX api_call_ledger_key_time ON api_call_ledger (key_fingerprint, called_at);

-- What we learned about a key from the API's replies.
CREATE TABLE api_key_state (
    key_fingerprint        TEXT PRIMARY KEY,
    -- After a rate-limit reply, calls are spaced by slow_spacing_sec until slow_until.
    slow_spacing_sec       DOUBLE PRECISION NOT NULL DEFAULT 0,
    slow_until             TIMESTAMPTZ,
    -- The key got the premium-parameter reply for outputsize=full.
    full_history_denied_at TIMESTAMPTZ,
    -- The API said the day's quota is gone (in Alpha Vantage's day, see quota.py).
    day_exhausted_on       DATE,
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0003', 'api_quota', '47a993c23f4f7ef50bb7bae988f60a9f8eea24231c1f29808cdaaab6ad936225');

-- 0004_symbol_state.sql
-- The outcome of the last ingest attempt per symbol: `stockpipe status` shows it, and the next
-- run orders deferred symbols first (then never-loaded, then stalest).
CREATE TABLE symbol_state (
    symbol          TEXT PRIMARY KEY,
    last_status     TEXT        NOT NULL,
    last_message    TEXT        NOT NULL DEFAULT '',
    last_attempt_at TIMESTAMPTZ NOT NULL,
    last_success_at TIMESTAMPTZ,
    deferred        BOOLEAN     NOT NULL DEFAULT FALSE,
    deferred_since  TIMESTAMPTZ,
    last_calls      INTEGER     NOT NULL DEFAULT 0,
    history_limited BOOLEAN     NOT NULL DEFAULT FALSE
);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0004', 'symbol_state', '44a4c1d8d50c155628143178769e6b158c1e51a515c550833a3d6b5957ff0082');

-- 0005_row_fingerprint.sql
-- A 64-bit fingerprint of each row's values, so the upsert can recognise an unchanged bar
-- without sending it (stockpipe/store/fingerprint.py computes the same value client-side).
-- GENERATED from the stored columns, never written by a loader: a manual UPDATE, an older
-- release or any other writer cannot leave it stale, and existing rows get theirs here
-- (this rewrites the table once, under an exclusive lock: minutes for tens of millions of rows).
-- Each value as PostgreSQL prints it, NULL as '', joined by '|', raw last; first 64 bits of md5.
ALTER TABLE stock_data
    ADD COLUMN fingerprint BIGINT GENERATED ALWAYS AS ((
        'x' || left(md5(
            coalesce(open::text, '') || '|' || coalesce(high::text, '') || '|'
            || coalesce(low::text, '') || '|' || coalesce(close::text, '') || '|'
            || coalesce(volume::text, '') || '|' || coalesce(adjusted_close::text, '') || '|'
            || coalesce(dividend_amount::text, '') || '|'
            || coalesce(split_coefficient::text, '') || '|' || coalesce(raw::text, '')
        ), 16)
    )::bit(64)::bigint) STORED;
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0005', 'row_fingerprint', 'b92628421701a79f3059ac2b957e2fba75a2426774cd38247b156436da7c1689');

-- 0006_symbol_rejection.sql
-- A symbol Alpha Vantage itself rejected ("Invalid API call" for that symbol): the ingest step
-- skips it without a call until API_REJECTED_SYMBOL_RETRY_DAYS have passed, so a typo in
-- STOCK_SYMBOLS does not cost a call of a 25-a-day budget every run. A successful load clears it.
ALTER TABLE symbol_state
    ADD COLUMN rejected_at     TIMESTAMPTZ,
    ADD COLUMN rejected_reason TEXT NOT NULL DEFAULT '';
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0006', 'symbol_rejection', 'bf25688230ad94d45b7b743bc417d9139214ec97a5e4994c4a2e948cfbc15394');

-- 0007_symbol_unpublished_session.sql
-- The session Alpha Vantage did not have yet when a call asked for it, and when it was asked:
-- the ingest step does not call again for that same session within a wait period, so re-running
-- `stockpipe ingest` in the evening, before the daily bar is published, costs no calls.
ALTER TABLE symbol_state
    ADD COLUMN unpublished_session  DATE,
    ADD COLUMN unpublished_asked_at TIMESTAMPTZ;
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0007', 'symbol_unpublished_session', '858a445c405c20767fcb99ded2069baff9a0682a3c3d3b4ca70821c1bc2bec6f');

-- 0008_weekly_monthly_intraday_tables.sql
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
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0008', 'weekly_monthly_intraday_tables', '4b42409013a7d18cff9ab5c7c5c7f1811c3a4edb3bc776f86947465ed218d4bf');

-- 0009_symbol_state_per_series.sql
-- symbol_state remembers each series of a symbol on its own (last result, deferral, rejection,
-- unpublished session): a weekly run must neither reorder nor answer for the daily one.
-- Existing rows are the daily series' memory.
ALTER TABLE symbol_state ADD COLUMN series TEXT NOT NULL DEFAULT 'daily';
ALTER TABLE symbol_state DROP CONSTRAINT symbol_state_pkey;
ALTER TABLE symbol_state ADD CONSTRAINT symbol_state_pkey PRIMARY KEY (symbol, series);

-- A series this key only got a premium-only reply for (intraday, an adjusted function on a
-- free key): remembered, so no run spends a call on it again until the retry day, like a
-- symbol Alpha Vantage rejected.
CREATE TABLE api_key_series_denial (
    key_fingerprint TEXT        NOT NULL,
    series          TEXT        NOT NULL,
    function        TEXT        NOT NULL,
    denied_at       TIMESTAMPTZ NOT NULL,
    reason          TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (key_fingerprint, series)
);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0009', 'symbol_state_per_series', 'c97379eb344b597bd7e8d5577e42f8a750b2e0f74b727be3550d3eeb86ff94a3');

-- 0010_alert_incidents.sql
-- Alerts (stockpipe.alerts): one row per incident, from the moment a condition starts until it
-- clears, so a symbol failing every day for a week sends one alert and then one recovery.
-- The notified_* columns are the outbox: a transition is written first and sent after, so a
-- delivery that failed on every channel is tried again at the next sensor tick.
CREATE TABLE alert_incident (
    id                BIGSERIAL PRIMARY KEY,
    kind              TEXT        NOT NULL,  -- run_failed, symbol_streak, check_failed, stale
    subject           TEXT        NOT NULL,  -- stock_job, stock_data/IBM, stock_data:freshness, daily/IBM
    opened_at         TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    occurrences       INTEGER     NOT NULL DEFAULT 1,
    details           JSONB       NOT NULL,  -- what the opening message says
    closed_at         TIMESTAMPTZ,
    close_details     JSONB,
    open_notified_at  TIMESTAMPTZ,
    close_notified_at TIMESTAMPTZ,
    -- when the transition waiting to be sent was written: one no channel took for a day is
    -- dropped (with an error in the log) rather than retried at every tick forever
    pending_since     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- At most one open incident per condition.
CREATE UNIQUE INDEX alert_incident_one_open ON alert_incident (kind, subject)
    WHERE closed_at IS NULL;
CREATE INDEX alert_incident_unsent ON alert_incident (kind)
    WHERE open_notified_at IS NULL OR (closed_at IS NOT NULL AND close_notified_at IS NULL);

-- Consecutive failed or deferred runs per (asset, symbol), fed by every finished run's
-- per-symbol results; kept apart from symbol_state, which the ingest step owns.
CREATE TABLE alert_symbol_streak (
    subject      TEXT PRIMARY KEY,            -- stock_data/IBM
    consecutive  INTEGER     NOT NULL,        -- failed or deferred runs in a row; 0 after a good one
    last_status  TEXT        NOT NULL,
    last_message TEXT        NOT NULL DEFAULT '',
    last_run_id  TEXT        NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Runs already counted: a sensor tick that fails after its database work but before Dagster
-- stores its cursor sees the same runs again, and must not count them twice.
CREATE TABLE alert_run_seen (
    run_id  TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0010', 'alert_incidents', 'cafa3b6c30c402b7f8d4d5c6103ce35deeb146eff3d33d53ccd892c124ab96d3');

COMMIT;
