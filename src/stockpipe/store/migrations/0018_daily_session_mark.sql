-- The daily gap read's "verified through" mark (issue 19): what a full read of a symbol's
-- daily history found (its first bar, its holes) up to the newest bar it saw, so the next read
-- scans only the bars from that mark on. Correct only while nothing changes at or below the
-- mark: the triggers below take the mark away (verified_ts NULL, a fresh generation) from any
-- symbol that gets a bar inserted, deleted or moved at or below it, and from every symbol on
-- TRUNCATE; the next read then reads that symbol's history in full once.
--
-- `generation` closes the race with a concurrent writer: a reader stores a mark only if the
-- row's generation is still the one it read in the same statement (same snapshot) as the
-- bars. A writer's trigger always sets a fresh one, and inserts the row when a symbol has
-- none, so a mark computed before the writer's commit can never be stored after it.
CREATE SEQUENCE daily_session_mark_generation;

CREATE TABLE daily_session_mark (
    symbol      TEXT        PRIMARY KEY,
    generation  BIGINT      NOT NULL DEFAULT nextval('daily_session_mark_generation'),
    first_ts    TIMESTAMPTZ,                      -- the oldest stored bar
    verified_ts TIMESTAMPTZ,                      -- NULL: no valid mark, read in full
    -- (hole_from[i], hole_to[i]): consecutive stored bars at or below the mark that are not
    -- consecutive sessions (stockpipe.store.sessions).
    hole_from   TIMESTAMPTZ[] NOT NULL DEFAULT '{}',
    hole_to     TIMESTAMPTZ[] NOT NULL DEFAULT '{}',
    -- Digest of the exchange sessions the holes were judged against: a release whose calendar
    -- differs (a new closure) re-reads instead of trusting them.
    calendar    TEXT        NOT NULL DEFAULT '',
    verified_at TIMESTAMPTZ
);

-- Statement-level over transition tables: one set-based statement per load, never a call per
-- row. A daily top-up (bars newer than every mark) finds nothing to do and writes nothing.
CREATE FUNCTION stockpipe_unverify_sessions() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE daily_session_mark
        SET generation = nextval('daily_session_mark_generation'), first_ts = NULL,
            verified_ts = NULL, hole_from = '{}', hole_to = '{}';
        RETURN NULL;
    END IF;
    INSERT INTO daily_session_mark AS m (symbol)
    SELECT c.symbol
    FROM (SELECT symbol, min(ts) AS lowest FROM changed_rows GROUP BY symbol) AS c
    LEFT JOIN daily_session_mark AS k ON k.symbol = c.symbol
    WHERE k.verified_ts IS NULL OR c.lowest <= k.verified_ts
    ORDER BY c.symbol  -- one lock order for every writer: no deadlock between two loads
    ON CONFLICT (symbol) DO UPDATE
    SET generation = EXCLUDED.generation, first_ts = NULL, verified_ts = NULL,
        hole_from = '{}', hole_to = '{}';
    RETURN NULL;
END $$;

CREATE TRIGGER stock_data_unverify_inserted
    AFTER INSERT ON stock_data
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockpipe_unverify_sessions();

CREATE TRIGGER stock_data_unverify_deleted
    AFTER DELETE ON stock_data
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockpipe_unverify_sessions();

CREATE TRIGGER stock_data_unverify_truncated
    AFTER TRUNCATE ON stock_data
    FOR EACH STATEMENT EXECUTE FUNCTION stockpipe_unverify_sessions();

-- A bar moved to another time or symbol (a hand-written UPDATE; the upsert never changes
-- either): row-level, because a trigger with a column list cannot have transition tables; the
-- column list means the upsert's value updates never even evaluate it.
CREATE FUNCTION stockpipe_unverify_moved() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_session_mark AS m (symbol)
    SELECT s FROM unnest(ARRAY[OLD.symbol, NEW.symbol]) AS s GROUP BY s ORDER BY s
    ON CONFLICT (symbol) DO UPDATE
    SET generation = EXCLUDED.generation, first_ts = NULL, verified_ts = NULL,
        hole_from = '{}', hole_to = '{}';
    RETURN NULL;
END $$;

CREATE TRIGGER stock_data_unverify_moved
    AFTER UPDATE OF symbol, ts ON stock_data
    FOR EACH ROW
    WHEN (OLD.symbol IS DISTINCT FROM NEW.symbol OR OLD.ts IS DISTINCT FROM NEW.ts)
    EXECUTE FUNCTION stockpipe_unverify_moved();
