-- stock_data_intraday range-partitioned by New York calendar month of `ts` (issue 19): at 10,000
-- symbols of 1-minute bars (~4 million rows a session) a month is ~80 million rows, which one
-- partition's indexes still serve, and a month is the unit Alpha Vantage serves old intraday
-- history in and the retention setting drops (STOCK_INTRADAY_RETENTION_MONTHS): a dropped
-- partition frees its space at once, where DELETE leaves a bloated table to vacuum.
--
-- A partitioned table's unique keys must hold the partition column. The key users and
-- `ON CONFLICT (symbol, interval, ts)` rely on already does, so it stays, with its name
-- (stock_data_intraday_symbol_interval_ts_key): every load stays idempotent. `id` keeps its
-- sequence and is unique in practice, but no longer a declared primary key (a key on `id`
-- alone cannot be declared on a partitioned table).
--
-- The parent's definition lives in one function, called here for an empty table and by
-- stockpipe.store.partitions for a table that already holds rows: that one is converted
-- outside this transaction in short steps (it becomes the first partition, "legacy", with no
-- rows copied), so writes are never blocked for longer than a catalog change.

CREATE FUNCTION stockpipe_create_intraday_parent() RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    CREATE TABLE stock_data_intraday (
        id BIGINT NOT NULL DEFAULT nextval('stock_data_intraday_id_seq'),
        symbol TEXT NOT NULL,
        interval TEXT NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        open NUMERIC,
        high NUMERIC,
        low NUMERIC,
        close NUMERIC,
        volume BIGINT,
        raw JSONB,
        adjusted_close NUMERIC,
        dividend_amount NUMERIC,
        split_coefficient NUMERIC,
        ingested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        fingerprint BIGINT GENERATED ALWAYS AS ((
            'x' || left(md5(
                coalesce(open::text, '') || '|' || coalesce(high::text, '') || '|'
                || coalesce(low::text, '') || '|' || coalesce(close::text, '') || '|'
                || coalesce(volume::text, '') || '|' || coalesce(adjusted_close::text, '') || '|'
                || coalesce(dividend_amount::text, '') || '|'
                || coalesce(split_coefficient::text, '') || '|' || coalesce(raw::text, '')
            ), 16)
        )::bit(64)::bigint) STORED,
        CONSTRAINT stock_data_intraday_symbol_interval_ts_key UNIQUE (symbol, interval, ts),
        CONSTRAINT stock_data_intraday_symbol_not_blank CHECK (symbol <> ''),
        CONSTRAINT stock_data_intraday_volume_not_negative CHECK (volume >= 0),
        CONSTRAINT stock_data_intraday_interval_known
            CHECK (interval IN ('1min', '5min', '15min', '30min', '60min'))
    ) PARTITION BY RANGE (ts);
    CREATE INDEX stock_data_intraday_updated_at_idx ON stock_data_intraday (updated_at);
    ALTER SEQUENCE stock_data_intraday_id_seq OWNED BY stock_data_intraday.id;
END $$;

-- An empty table (every new database, and any that never loaded intraday bars) is replaced
-- here; partitions are created by the application ahead of need and for each load's months.
DO $$
BEGIN
    -- No write may land between the check and the drop.
    LOCK TABLE stock_data_intraday IN EXCLUSIVE MODE;
    IF NOT EXISTS (SELECT 1 FROM stock_data_intraday) THEN
        ALTER SEQUENCE stock_data_intraday_id_seq OWNED BY NONE;
        DROP TABLE stock_data_intraday;
        PERFORM stockpipe_create_intraday_parent();
    END IF;
END $$;
