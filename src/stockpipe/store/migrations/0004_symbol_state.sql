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
