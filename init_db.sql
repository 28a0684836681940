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

-- 0011_corporate_actions_adjusted_prices_bar_changes.sql
-- Corporate actions (Alpha Vantage SPLITS and DIVIDENDS), the split- and dividend-adjusted view
-- of the daily bars, and the audit of corrected bars. (0008-0010 belong to other branches.)

-- One row per split and per dividend, keyed by its date, so a re-fetch updates and never
-- duplicates. Typed values for queries; `raw` is the vendor's object exactly as sent (its
-- strings, "None" included), NUMERIC keeps the scale it was sent with ("1.0460").
CREATE TABLE stock_splits (
    symbol         TEXT        NOT NULL,
    effective_date DATE        NOT NULL,
    split_factor   NUMERIC     NOT NULL CHECK (split_factor > 0),  -- new shares per old share
    raw            JSONB       NOT NULL,
    first_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, effective_date)
);

-- Unknown dates ("None") are NULL; the ex-date is the key, so a dividend without one is not
-- stored (the parser counts it as skipped). Declared future dividends are stored: they adjust
-- nothing until a bar on or after their ex-date exists.
CREATE TABLE stock_dividends (
    symbol           TEXT        NOT NULL,
    ex_dividend_date DATE        NOT NULL,
    declaration_date DATE,
    record_date      DATE,
    payment_date     DATE,
    amount           NUMERIC     NOT NULL CHECK (amount >= 0),
    raw              JSONB       NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, ex_dividend_date)
);

-- When each symbol's actions were last fetched, per kind (SPLITS, DIVIDENDS): the refresh runs
-- on its own cadence (CORPORATE_ACTIONS_REFRESH_DAYS), apart from the daily bars' symbol_state.
CREATE TABLE corporate_action_refresh (
    symbol          TEXT        NOT NULL,
    function        TEXT        NOT NULL,
    last_attempt_at TIMESTAMPTZ NOT NULL,
    last_success_at TIMESTAMPTZ,
    last_status     TEXT        NOT NULL,
    last_message    TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (symbol, function)
);

-- The running product of the adjustment factors, rounded at each step so that the numbers
-- stay short and any other implementation (stockpipe.testing.corporate_actions) can
-- reproduce them to the last digit.
CREATE FUNCTION stockpipe_factor_mul(acc NUMERIC, factor NUMERIC) RETURNS NUMERIC
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT round(acc * factor, 16) $$;

CREATE AGGREGATE stockpipe_factor_product(NUMERIC) (
    SFUNC = stockpipe_factor_mul, STYPE = NUMERIC, INITCOND = '1'
);

-- Split- and dividend-adjusted daily bars, computed from the raw bars and the actions each time
-- it is read (so a new or corrected action shows at once), the way CRSP and LEAN do it:
--   * an ex-date E (split factor s, s = 1 without a split; dividend d, 0 without one) has the
--     factor f(E) = round((P - d*s) / (P*s), 12), where P is the raw close of the last bar
--     before E: 1/s for the split, times 1 - d / (P/s) for the dividend (P/s is that close in
--     post-split shares; with s = 1 it is CRSP's 1 - d/P);
--   * a bar's price factor is the product of f(E) over every ex-date after the bar, multiplied
--     newest first and rounded to 16 places at each step; prices are round(raw * factor, 4);
--   * the volume factor is the product of the split factors after the bar (volume * it, rounded);
--   * an ex-date with no bar before it, or none on or after it (a declared future dividend, or
--     bars not loaded that far yet), adjusts nothing yet.
-- The newest bar is therefore never adjusted, and adjusted history changes when an action
-- arrives, as Alpha Vantage's own adjusted series do.
CREATE VIEW stock_data_adjusted AS
WITH actions AS (
    SELECT symbol, effective_date AS day, split_factor AS split, 0::numeric AS dividend
    FROM stock_splits
    UNION ALL
    SELECT symbol, ex_dividend_date, 1::numeric, amount FROM stock_dividends
), events AS (
    SELECT symbol, day, stockpipe_factor_product(split) AS split, sum(dividend) AS dividend,
           (day::timestamp AT TIME ZONE 'America/New_York') AS starts
    FROM actions GROUP BY symbol, day
), factored AS (
    SELECT e.symbol, e.starts,
           round((p.close - e.dividend * e.split) / (p.close * e.split), 12) AS price_factor,
           e.split AS volume_factor
    FROM events e
    JOIN LATERAL (
        SELECT d.close FROM stock_data d
        WHERE d.symbol = e.symbol AND d.ts < e.starts ORDER BY d.ts DESC LIMIT 1
    ) p ON p.close > 0
    WHERE EXISTS (SELECT 1 FROM stock_data d WHERE d.symbol = e.symbol AND d.ts >= e.starts)
), cumulative AS (
    SELECT symbol, starts,
           stockpipe_factor_product(price_factor) OVER newest_first AS price_factor,
           stockpipe_factor_product(volume_factor) OVER newest_first AS volume_factor
    FROM factored
    WINDOW newest_first AS (PARTITION BY symbol ORDER BY starts DESC ROWS UNBOUNDED PRECEDING)
), timeline AS (
    -- Bars and ex-dates in one newest-first sequence per symbol, where each bar takes the
    -- product of the nearest ex-date after it: numbering the ex-dates seen so far groups every
    -- bar with that ex-date (a bar on an ex-date sorts before it, so that one does not adjust
    -- it). Two window passes over the symbol's rows, where joining every bar with every
    -- ex-date range took 4x the time (5,000 bars, 81 ex-dates: 105 ms).
    SELECT *, count(price_factor) OVER (
               PARTITION BY symbol ORDER BY ts DESC, is_event ROWS UNBOUNDED PRECEDING
           ) AS ex_dates_after
    FROM (
        SELECT id, symbol, ts, open, high, low, close, volume,
               NULL::numeric AS price_factor, NULL::numeric AS volume_factor, 0 AS is_event
        FROM stock_data
        UNION ALL
        SELECT NULL, symbol, starts, NULL, NULL, NULL, NULL, NULL, price_factor, volume_factor, 1
        FROM cumulative
    ) rows
), resolved AS (
    SELECT *,
           COALESCE(max(price_factor) OVER ex_date_group, 1::numeric) AS bar_price_factor,
           COALESCE(max(volume_factor) OVER ex_date_group, 1::numeric) AS bar_volume_factor
    FROM timeline
    WINDOW ex_date_group AS (PARTITION BY symbol, ex_dates_after)
)
SELECT id, symbol, ts,
       round(open * bar_price_factor, 4) AS open,
       round(high * bar_price_factor, 4) AS high,
       round(low * bar_price_factor, 4) AS low,
       round(close * bar_price_factor, 4) AS close,
       round(volume * bar_volume_factor)::bigint AS volume,
       bar_price_factor AS price_factor, bar_volume_factor AS volume_factor,
       close AS raw_close
FROM resolved
WHERE is_event = 0;

COMMENT ON VIEW stock_data_adjusted IS
    'Split- and dividend-adjusted daily bars (CRSP/LEAN factors per ex-date); see migration 0011 and docs/architecture.md';

-- Vendor corrections made visible: every UPDATE of stock_data that changes a value records the
-- columns that changed, old and new, when, and the run that wrote them (the upsert sets
-- stockpipe.run_id with set_config(.., true), local to its transaction). An unchanged re-load
-- updates no row, so it records nothing; neither does an update of updated_at alone.
CREATE TABLE stock_data_changes (
    id         BIGSERIAL   PRIMARY KEY,
    symbol     TEXT        NOT NULL,
    ts         TIMESTAMPTZ NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    run_id     TEXT,
    old_values JSONB       NOT NULL,
    new_values JSONB       NOT NULL
);
CREATE INDEX stock_data_changes_changed_at_idx ON stock_data_changes (changed_at);
CREATE INDEX stock_data_changes_symbol_ts_idx ON stock_data_changes (symbol, ts);

-- Statement-level, over the statement's transition tables: one set-based INSERT per upsert
-- instead of a PL/pgSQL call per row. On a reload that changes every bar (80,000 rows, 2 cores,
-- load 4) a row-level version took 3.08x the time without the trigger (281 us per row), this
-- one 1.13x (22 us per row): benchmarks/audit_trigger.py. Rows are matched by id, which the
-- upsert never changes; only columns whose value changed are kept, old and new.
CREATE FUNCTION stockpipe_record_bar_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_data_changes (symbol, ts, run_id, old_values, new_values)
    SELECT n.symbol, n.ts, NULLIF(current_setting('stockpipe.run_id', true), ''),
           CASE WHEN o.open IS DISTINCT FROM n.open THEN jsonb_build_object('open', o.open) ELSE '{}' END
           || CASE WHEN o.high IS DISTINCT FROM n.high THEN jsonb_build_object('high', o.high) ELSE '{}' END
           || CASE WHEN o.low IS DISTINCT FROM n.low THEN jsonb_build_object('low', o.low) ELSE '{}' END
           || CASE WHEN o.close IS DISTINCT FROM n.close THEN jsonb_build_object('close', o.close) ELSE '{}' END
           || CASE WHEN o.volume IS DISTINCT FROM n.volume THEN jsonb_build_object('volume', o.volume) ELSE '{}' END
           || CASE WHEN o.adjusted_close IS DISTINCT FROM n.adjusted_close THEN jsonb_build_object('adjusted_close', o.adjusted_close) ELSE '{}' END
           || CASE WHEN o.dividend_amount IS DISTINCT FROM n.dividend_amount THEN jsonb_build_object('dividend_amount', o.dividend_amount) ELSE '{}' END
           || CASE WHEN o.split_coefficient IS DISTINCT FROM n.split_coefficient THEN jsonb_build_object('split_coefficient', o.split_coefficient) ELSE '{}' END
           || CASE WHEN o.raw IS DISTINCT FROM n.raw THEN jsonb_build_object('raw', o.raw) ELSE '{}' END,
           CASE WHEN o.open IS DISTINCT FROM n.open THEN jsonb_build_object('open', n.open) ELSE '{}' END
           || CASE WHEN o.high IS DISTINCT FROM n.high THEN jsonb_build_object('high', n.high) ELSE '{}' END
           || CASE WHEN o.low IS DISTINCT FROM n.low THEN jsonb_build_object('low', n.low) ELSE '{}' END
           || CASE WHEN o.close IS DISTINCT FROM n.close THEN jsonb_build_object('close', n.close) ELSE '{}' END
           || CASE WHEN o.volume IS DISTINCT FROM n.volume THEN jsonb_build_object('volume', n.volume) ELSE '{}' END
           || CASE WHEN o.adjusted_close IS DISTINCT FROM n.adjusted_close THEN jsonb_build_object('adjusted_close', n.adjusted_close) ELSE '{}' END
           || CASE WHEN o.dividend_amount IS DISTINCT FROM n.dividend_amount THEN jsonb_build_object('dividend_amount', n.dividend_amount) ELSE '{}' END
           || CASE WHEN o.split_coefficient IS DISTINCT FROM n.split_coefficient THEN jsonb_build_object('split_coefficient', n.split_coefficient) ELSE '{}' END
           || CASE WHEN o.raw IS DISTINCT FROM n.raw THEN jsonb_build_object('raw', n.raw) ELSE '{}' END
    FROM old_rows o JOIN new_rows n USING (id)
    WHERE (o.open, o.high, o.low, o.close, o.volume, o.adjusted_close, o.dividend_amount, o.split_coefficient, o.raw)
          IS DISTINCT FROM
          (n.open, n.high, n.low, n.close, n.volume, n.adjusted_close, n.dividend_amount, n.split_coefficient, n.raw);
    RETURN NULL;
END $$;

CREATE TRIGGER stock_data_record_changes
    AFTER UPDATE ON stock_data
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION stockpipe_record_bar_changes();
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0011', 'corporate_actions_adjusted_prices_bar_changes', '67adee5f760ee765fa89e8238b69650843ac8cd78fa1d83878afbfb29e0ee5cf');

-- 0012_vendor_missing_sessions_premium_gap_notices.sql
-- Gaps in the daily series (issue 13, "Gaps and their repair"). A missing session is an NYSE
-- session from a symbol's first stored bar to the latest completed one with no bar; two kinds
-- of memory keep the repair from spending calls it cannot win.

-- Sessions Alpha Vantage itself has no bar for (a halted stock, a hole in its history),
-- learned from an answer whose bars span the session and lack it. Such a session is not a gap
-- and is never fetched for again; an answer that does hold it stores the bar and deletes the
-- row.
CREATE TABLE vendor_missing_session (
    symbol        TEXT        NOT NULL,
    series        TEXT        NOT NULL,
    day           DATE        NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    run_id        TEXT,
    PRIMARY KEY (symbol, series, day)
);

-- Missing sessions only full (premium) history reaches, on a key denied it: reported once per
-- symbol (a log warning and the run's result), not on every run. The sessions stay missing
-- (status and the asset check keep showing them); a row goes when its session gets a bar.
CREATE TABLE premium_gap_notice (
    symbol      TEXT        NOT NULL,
    series      TEXT        NOT NULL,
    day         DATE        NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL,
    run_id      TEXT,
    PRIMARY KEY (symbol, series, day)
);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0012', 'vendor_missing_sessions_premium_gap_notices', '9cabf570e3641998dcb2cca9b8d22f3542a74e8cbde549b78b79947a9835eb79');

-- 0013_backfill_unit.sql
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
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0013', 'backfill_unit', '4cee495171636e68ea009858d2662b2c467015b6230ed5fd9400efac8d485d2b');

-- 0014_adjusted_refetch.sql
-- A symbol's adjusted series (STOCK_ADJUSTED=true: daily, weekly, monthly adjusted functions)
-- to fetch again in full, because a corporate action of that symbol is new, changed or gone
-- since the stored history was fetched: Alpha Vantage restates the adjusted values of every bar
-- before the action. The next refresh of that series refetches even if its newest bar is up to
-- date, and deletes the mark (only a mark no newer than the one it read: one set meanwhile
-- stays). Kept in the database so that the mark survives the process that set it.
CREATE TABLE adjusted_refetch (
    symbol    TEXT        NOT NULL,
    series    TEXT        NOT NULL,
    marked_at TIMESTAMPTZ NOT NULL,
    reason    TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (symbol, series)
);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0014', 'adjusted_refetch', 'd85a0ab9fcc34747d3af16ebc24a73cf2b1f7cf3888e4b89c9022d9336385c49');

-- 0015_call_gate.sql
-- The key got a successful outputsize=full reply: it is not (or no longer) compact-only. Set by
-- the call gate on every such reply, which also clears full_history_denied_at at once (a key
-- upgraded to premium is believed on its first full answer, not after the denial's 30 days).
ALTER TABLE api_key_state ADD COLUMN full_history_granted_at TIMESTAMPTZ;

-- Runs active on a key, by priority class (stockpipe.quota.classes: 0 scheduled refreshes,
-- 1 corporate actions, 2 backfill): while a row of a higher class is live (active_until in the
-- future), the call gate gives a lower class no slot. A run renews its row on every call and
-- deletes it when it ends; a killed run's row simply lapses.
CREATE TABLE api_call_claimant (
    key_fingerprint TEXT        NOT NULL,
    holder          TEXT        NOT NULL,
    call_class      SMALLINT    NOT NULL,
    active_until    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key_fingerprint, holder)
);

-- The earliest start of the key's next call (a GCRA "theoretical arrival time"): the call
-- gate hands out start times from here, evenly spaced, and moves it past every slot it grants;
-- a throttle reply pushes it back for every process at once.
ALTER TABLE api_key_state ADD COLUMN next_start_at TIMESTAMPTZ;
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0015', 'call_gate', '1d470229ab82cd1158a60652cdf65990e3150894ef9aafec504e1cecb54d7ced');

-- 0016_alert_delivery_per_channel.sql
-- Alerts: which channel took which transition (the opening or the recovery of an incident).
-- Before this table an incident was marked notified as soon as one channel took it, so a Slack
-- webhook that was down in the tick when the e-mail went out never got that alert. Now each
-- channel gets every transition it lacks at the next tick it is reachable again; the
-- incident's *_notified_at is set once every configured channel has it (or after the give-up
-- window, stockpipe.alerts.service.GIVE_UP_AFTER). Rows go with their incident.
CREATE TABLE alert_delivery (
    incident_id  BIGINT      NOT NULL REFERENCES alert_incident (id) ON DELETE CASCADE,
    transition   TEXT        NOT NULL CHECK (transition IN ('open', 'close')),
    channel      TEXT        NOT NULL,  -- the channel's name: "slack webhook", "email to ... via host:port (starttls)"
    delivered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, transition, channel)
);

-- alert_run_seen only guards against a tick that counted runs and failed before its cursor was
-- stored; rows older than a week are pruned (stockpipe.alerts.incidents.RUN_SEEN_RETENTION).
CREATE INDEX alert_run_seen_by_time ON alert_run_seen (seen_at);
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0016', 'alert_delivery_per_channel', '90609615f81e3bad8e5b53b7f61aa3e7f4fa50001f837279600531513df176b7');

-- 0017_stock_listing.sql
-- The universe (STOCK_UNIVERSE=listing, stockpipe.ingest.universe): Alpha Vantage's
-- LISTING_STATUS, active and delisted, refreshed at most once a day. A ticker is not a company:
-- a delisted company's ticker may be given to a new one, with a later IPO date, so a listing
-- is keyed by (symbol, ipo_date). Rows are never deleted: a delisted company keeps its row and
-- its delisting date, and its bars stay in the bar tables.
CREATE TABLE stock_listing (
    symbol         TEXT        NOT NULL,
    ipo_date       DATE        NOT NULL,
    name           TEXT        NOT NULL,
    exchange       TEXT        NOT NULL,
    asset_type     TEXT        NOT NULL,  -- 'Stock' or 'ETF', as the vendor writes it
    delisting_date DATE,                  -- the first session without trading
    status         TEXT        NOT NULL CHECK (status IN ('Active', 'Delisted')),
    first_seen_on  DATE        NOT NULL,  -- Alpha Vantage's day (US/Eastern) of the refresh
    last_seen_on   DATE        NOT NULL,  -- that first / last listed it
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, ipo_date)
);
CREATE INDEX stock_listing_status ON stock_listing (status, last_seen_on);

-- One row per refresh that stored both answers: the universe is the active listings seen by
-- the latest one, and a day with a row here costs no further LISTING_STATUS call.
CREATE TABLE stock_listing_refresh (
    refreshed_on  DATE        PRIMARY KEY,  -- Alpha Vantage's day (US/Eastern)
    refreshed_at  TIMESTAMPTZ NOT NULL,
    active_rows   INTEGER     NOT NULL,
    delisted_rows INTEGER     NOT NULL,
    added         INTEGER     NOT NULL,  -- active listings not stored before
    delisted      INTEGER     NOT NULL,  -- stored active listings now delisted
    skipped       JSONB       NOT NULL DEFAULT '{}'  -- malformed rows by reason
);

-- Every daily bar with the company that held its ticker on the bar's date: the listing with
-- the latest IPO on or before that date. A re-used ticker's bars stay in stock_data under the
-- one symbol; this view tells the companies apart (WHERE symbol = 'X' AND ipo_date = ...).
-- Bars of a symbol without a listing row (STOCK_UNIVERSE=symbols) are not in it.
CREATE VIEW stock_data_listed AS
SELECT d.*, l.ipo_date, l.name AS listing_name, l.exchange, l.asset_type, l.delisting_date
FROM stock_data AS d
CROSS JOIN LATERAL (
    SELECT ipo_date, name, exchange, asset_type, delisting_date
    FROM stock_listing AS s
    WHERE s.symbol = d.symbol AND s.ipo_date <= (d.ts AT TIME ZONE 'America/New_York')::date
    ORDER BY s.ipo_date DESC
    LIMIT 1
) AS l;
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0017', 'stock_listing', '4445e697d1ac75533ad1cf1b72edb87e1eaf52b60975f4ff9ac6de3722b213a8');

-- 0018_daily_session_mark.sql
-- The daily gap read's "verified through" mark (issue 19): what a full read of a symbol's
-- daily history found (its first bar, its holes) up to the newest bar it saw, so the next read
-- scans only the bars from that mark on. Correct only while nothing changes at or below the
-- mark: the triggers below take the mark away (verified_ts NULL, a fresh generation) from any
-- symbol that gets a bar inserted, deleted or moved at or below it, and from every symbol on
-- TRUNCATE; the next read then reads that symbol's history in full once.
--
-- `generation` closes the race with a concurrent writer: a reader stores a mark only if the
-- row's generation is still the one it read in the same statement (same snapshot) as the
-- bars. A writer's trigger always sets a fresh one, and inserts the row when a symbol has
-- none, so a mark computed before the writer's commit can never be stored after it.
CREATE SEQUENCE daily_session_mark_generation;

CREATE TABLE daily_session_mark (
    symbol      TEXT        PRIMARY KEY,
    generation  BIGINT      NOT NULL DEFAULT nextval('daily_session_mark_generation'),
    first_ts    TIMESTAMPTZ,                      -- the oldest stored bar
    verified_ts TIMESTAMPTZ,                      -- NULL: no valid mark, read in full
    -- (hole_from[i], hole_to[i]): consecutive stored bars at or below the mark that are not
    -- consecutive sessions (stockpipe.store.sessions).
    hole_from   TIMESTAMPTZ[] NOT NULL DEFAULT '{}',
    hole_to     TIMESTAMPTZ[] NOT NULL DEFAULT '{}',
    -- Digest of the exchange sessions the holes were judged against: a release whose calendar
    -- differs (a new closure) re-reads instead of trusting them.
    calendar    TEXT        NOT NULL DEFAULT '',
    verified_at TIMESTAMPTZ
);

-- Statement-level over transition tables: one set-based statement per load, never a call per
-- row. A daily top-up (bars newer than every mark) finds nothing to do and writes nothing.
CREATE FUNCTION stockpipe_unverify_sessions() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE daily_session_mark
        SET generation = nextval('daily_session_mark_generation'), first_ts = NULL,
            verified_ts = NULL, hole_from = '{}', hole_to = '{}';
        RETURN NULL;
    END IF;
    INSERT INTO daily_session_mark AS m (symbol)
    SELECT c.symbol
    FROM (SELECT symbol, min(ts) AS lowest FROM changed_rows GROUP BY symbol) AS c
    LEFT JOIN daily_session_mark AS k ON k.symbol = c.symbol
    WHERE k.verified_ts IS NULL OR c.lowest <= k.verified_ts
    ORDER BY c.symbol  -- one lock order for every writer: no deadlock between two loads
    ON CONFLICT (symbol) DO UPDATE
    SET generation = EXCLUDED.generation, first_ts = NULL, verified_ts = NULL,
        hole_from = '{}', hole_to = '{}';
    RETURN NULL;
END $$;

CREATE TRIGGER stock_data_unverify_inserted
    AFTER INSERT ON stock_data
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockpipe_unverify_sessions();

CREATE TRIGGER stock_data_unverify_deleted
    AFTER DELETE ON stock_data
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockpipe_unverify_sessions();

CREATE TRIGGER stock_data_unverify_truncated
    AFTER TRUNCATE ON stock_data
    FOR EACH STATEMENT EXECUTE FUNCTION stockpipe_unverify_sessions();

-- A bar moved to another time or symbol (a hand-written UPDATE; the upsert never changes
-- either): row-level, because a trigger with a column list cannot have transition tables; the
-- column list means the upsert's value updates never even evaluate it.
CREATE FUNCTION stockpipe_unverify_moved() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_session_mark AS m (symbol)
    SELECT s FROM unnest(ARRAY[OLD.symbol, NEW.symbol]) AS s GROUP BY s ORDER BY s
    ON CONFLICT (symbol) DO UPDATE
    SET generation = EXCLUDED.generation, first_ts = NULL, verified_ts = NULL,
        hole_from = '{}', hole_to = '{}';
    RETURN NULL;
END $$;

CREATE TRIGGER stock_data_unverify_moved
    AFTER UPDATE OF symbol, ts ON stock_data
    FOR EACH ROW
    WHEN (OLD.symbol IS DISTINCT FROM NEW.symbol OR OLD.ts IS DISTINCT FROM NEW.ts)
    EXECUTE FUNCTION stockpipe_unverify_moved();
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0018', 'daily_session_mark', 'c9b1b078b7e5807501691ffddaba63edc18c895ef0f682b92dc03c3125bcd8ac');

-- 0019_partitioned_intraday.sql
-- stock_data_intraday range-partitioned by New York calendar month of `ts` (issue 19): at 10,000
-- symbols of 1-minute bars (~4 million rows a session) a month is ~80 million rows, which one
-- partition's indexes still serve, and a month is the unit Alpha Vantage serves old intraday
-- history in and the retention setting drops (STOCK_INTRADAY_RETENTION_MONTHS): a dropped
-- partition frees its space at once, where DELETE leaves a bloated table to vacuum.
--
-- A partitioned table's unique keys must hold the partition column. The key users and
-- `ON CONFLICT (symbol, interval, ts)` rely on already does, so it stays, with its name
-- (stock_data_intraday_symbol_interval_ts_key): every load stays idempotent. `id` keeps its
-- sequence and is unique in practice, but no longer a declared primary key (a key on `id`
-- alone cannot be declared on a partitioned table).
--
-- The parent's definition lives in one function, called here for an empty table and by
-- stockpipe.store.partitions for a table that already holds rows: that one is converted
-- outside this transaction in short steps (it becomes the first partition, "legacy", with no
-- rows copied), so writes are never blocked for longer than a catalog change.

CREATE FUNCTION stockpipe_create_intraday_parent() RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    CREATE TABLE stock_data_intraday (
        id BIGINT NOT NULL DEFAULT nextval('stock_data_intraday_id_seq'),
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
    ) PARTITION BY RANGE (ts);
    CREATE INDEX stock_data_intraday_updated_at_idx ON stock_data_intraday (updated_at);
    ALTER SEQUENCE stock_data_intraday_id_seq OWNED BY stock_data_intraday.id;
END $$;

-- An empty table (every new database, and any that never loaded intraday bars) is replaced
-- here; partitions are created by the application ahead of need and for each load's months.
DO $$
BEGIN
    -- No write may land between the check and the drop.
    LOCK TABLE stock_data_intraday IN EXCLUSIVE MODE;
    IF NOT EXISTS (SELECT 1 FROM stock_data_intraday) THEN
        ALTER SEQUENCE stock_data_intraday_id_seq OWNED BY NONE;
        DROP TABLE stock_data_intraday;
        PERFORM stockpipe_create_intraday_parent();
    END IF;
END $$;
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0019', 'partitioned_intraday', 'fcaafdb25f4869d596fb5f054b990492bed54b955177e50f9f0019b9a6eeff27');

-- 0020_session_mark_bars.sql
-- The daily gap read's mark also remembers how many bars it verified (issue 19): `stockpipe
-- status` for 10,000 symbols counted every symbol's rows (25 million index entries, about a
-- minute) where the marks already hold everything else it shows. The bars after the mark are
-- counted by each read; a change at or below the mark takes the whole mark away (0018's
-- triggers), this count with it. NULL on marks made before this migration: the next read
-- counts those symbols' bars once. Adding a nullable column rewrites nothing.
ALTER TABLE daily_session_mark ADD COLUMN bars BIGINT;
INSERT INTO stockpipe_schema_migrations (version, name, checksum) VALUES ('0020', 'session_mark_bars', 'f47d66e6db320049a01e37d552afdeda3e04bfb22d9d2eb5c99718f145c9cae7');

COMMIT;
