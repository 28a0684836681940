-- The daily gap read's mark also remembers how many bars it verified (issue 19): `stockpipe
-- status` for 10,000 symbols counted every symbol's rows (25 million index entries, about a
-- minute) where the marks already hold everything else it shows. The bars after the mark are
-- counted by each read; a change at or below the mark takes the whole mark away (0018's
-- triggers), this count with it. NULL on marks made before this migration: the next read
-- counts those symbols' bars once. Adding a nullable column rewrites nothing.
ALTER TABLE daily_session_mark ADD COLUMN bars BIGINT;
