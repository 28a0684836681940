-- A symbol Alpha Vantage itself rejected ("Invalid API call" for that symbol): the ingest step
-- skips it without a call until API_REJECTED_SYMBOL_RETRY_DAYS have passed, so a typo in
-- STOCK_SYMBOLS does not cost a call of a 25-a-day budget every run. A successful load clears it.
ALTER TABLE symbol_state
    ADD COLUMN rejected_at     TIMESTAMPTZ,
    ADD COLUMN rejected_reason TEXT NOT NULL DEFAULT '';
