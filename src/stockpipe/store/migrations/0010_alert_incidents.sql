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
