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
