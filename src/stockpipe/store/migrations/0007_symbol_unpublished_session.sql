-- The session Alpha Vantage did not have yet when a call asked for it, and when it was asked:
-- the ingest step does not call again for that same session within a wait period, so re-running
-- `stockpipe ingest` in the evening, before the daily bar is published, costs no calls.
ALTER TABLE symbol_state
    ADD COLUMN unpublished_session  DATE,
    ADD COLUMN unpublished_asked_at TIMESTAMPTZ;
