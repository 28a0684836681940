-- The key got a successful outputsize=full reply: it is not (or no longer) compact-only. Set by
-- the call gate on every such reply, which also clears full_history_denied_at at once (a key
-- upgraded to premium is believed on its first full answer, not after the denial's 30 days).
ALTER TABLE api_key_state ADD COLUMN full_history_granted_at TIMESTAMPTZ;
