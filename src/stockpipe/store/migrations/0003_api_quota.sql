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
