-- What the adjusted daily endpoint adds, and when each row was first stored and last changed.
-- Nullable adjusted fields: the free endpoint does not send them. updated_at moves only when
-- an upsert really changes the row (unchanged re-loads write nothing).
ALTER TABLE stock_data
    ADD COLUMN adjusted_close NUMERIC,
    ADD COLUMN dividend_amount NUMERIC,
    ADD COLUMN split_coefficient NUMERIC,
    ADD COLUMN ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- Rows an older release wrote with a blank symbol or negative volume would be bad data, but
-- must not block the upgrade: NOT VALID checks new rows only.
ALTER TABLE stock_data
    ADD CONSTRAINT stock_data_symbol_not_blank CHECK (symbol <> '') NOT VALID,
    ADD CONSTRAINT stock_data_volume_not_negative CHECK (volume >= 0) NOT VALID;

-- Downstream readers ask "which rows changed since my last sync?".
CREATE INDEX stock_data_updated_at_idx ON stock_data (updated_at);
