-- The universe (STOCK_UNIVERSE=listing, stockpipe.ingest.universe): Alpha Vantage's
-- LISTING_STATUS, active and delisted, refreshed at most once a day. A ticker is not a company:
-- a delisted company's ticker may be given to a new one, with a later IPO date, so a listing
-- is keyed by (symbol, ipo_date). Rows are never deleted: a delisted company keeps its row and
-- its delisting date, and its bars stay in the bar tables.
CREATE TABLE stock_listing (
    symbol         TEXT        NOT NULL,
    ipo_date       DATE        NOT NULL,
    name           TEXT        NOT NULL,
    exchange       TEXT        NOT NULL,
    asset_type     TEXT        NOT NULL,  -- 'Stock' or 'ETF', as the vendor writes it
    delisting_date DATE,                  -- the first session without trading
    status         TEXT        NOT NULL CHECK (status IN ('Active', 'Delisted')),
    first_seen_on  DATE        NOT NULL,  -- Alpha Vantage's day (US/Eastern) of the refresh
    last_seen_on   DATE        NOT NULL,  -- that first / last listed it
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, ipo_date)
);
CREATE INDEX stock_listing_status ON stock_listing (status, last_seen_on);

-- One row per refresh that stored both answers: the universe is the active listings seen by
-- the latest one, and a day with a row here costs no further LISTING_STATUS call.
CREATE TABLE stock_listing_refresh (
    refreshed_on  DATE        PRIMARY KEY,  -- Alpha Vantage's day (US/Eastern)
    refreshed_at  TIMESTAMPTZ NOT NULL,
    active_rows   INTEGER     NOT NULL,
    delisted_rows INTEGER     NOT NULL,
    added         INTEGER     NOT NULL,  -- active listings not stored before
    delisted      INTEGER     NOT NULL,  -- stored active listings now delisted
    skipped       JSONB       NOT NULL DEFAULT '{}'  -- malformed rows by reason
);

-- Every daily bar with the company that held its ticker on the bar's date: the listing with
-- the latest IPO on or before that date. A re-used ticker's bars stay in stock_data under the
-- one symbol; this view tells the companies apart (WHERE symbol = 'X' AND ipo_date = ...).
-- Bars of a symbol without a listing row (STOCK_UNIVERSE=symbols) are not in it.
CREATE VIEW stock_data_listed AS
SELECT d.*, l.ipo_date, l.name AS listing_name, l.exchange, l.asset_type, l.delisting_date
FROM stock_data AS d
CROSS JOIN LATERAL (
    SELECT ipo_date, name, exchange, asset_type, delisting_date
    FROM stock_listing AS s
    WHERE s.symbol = d.symbol AND s.ipo_date <= (d.ts AT TIME ZONE 'America/New_York')::date
    ORDER BY s.ipo_date DESC
    LIMIT 1
) AS l;
