-- A 64-bit fingerprint of each row's values, so the upsert can recognise an unchanged bar
-- without sending it (stockpipe/store/fingerprint.py computes the same value client-side).
-- GENERATED from the stored columns, never written by a loader: a manual UPDATE, an older
-- release or any other writer cannot leave it stale, and existing rows get theirs here
-- (this rewrites the table once, under an exclusive lock: minutes for tens of millions of rows).
-- Each value as PostgreSQL prints it, NULL as '', joined by '|', raw last; first 64 bits of md5.
ALTER TABLE stock_data
    ADD COLUMN fingerprint BIGINT GENERATED ALWAYS AS ((
        'x' || left(md5(
            coalesce(open::text, '') || '|' || coalesce(high::text, '') || '|'
            || coalesce(low::text, '') || '|' || coalesce(close::text, '') || '|'
            || coalesce(volume::text, '') || '|' || coalesce(adjusted_close::text, '') || '|'
            || coalesce(dividend_amount::text, '') || '|'
            || coalesce(split_coefficient::text, '') || '|' || coalesce(raw::text, '')
        ), 16)
    )::bit(64)::bigint) STORED;
