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
