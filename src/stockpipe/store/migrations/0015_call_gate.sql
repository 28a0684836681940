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
