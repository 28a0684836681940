-- A symbol's adjusted series (STOCK_ADJUSTED=true: daily, weekly, monthly adjusted functions)
-- to fetch again in full, because a corporate action of that symbol is new, changed or gone
-- since the stored history was fetched: Alpha Vantage restates the adjusted values of every bar
-- before the action. The next refresh of that series refetches even if its newest bar is up to
-- date, and deletes the mark (only a mark no newer than the one it read: one set meanwhile
-- stays). Kept in the database so that the mark survives the process that set it.
CREATE TABLE adjusted_refetch (
    symbol    TEXT        NOT NULL,
    series    TEXT        NOT NULL,
    marked_at TIMESTAMPTZ NOT NULL,
    reason    TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (symbol, series)
);
