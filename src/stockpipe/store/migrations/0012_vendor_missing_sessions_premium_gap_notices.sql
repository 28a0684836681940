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
