"""The SQL both daily gap reads share (stockpipe.store.sessions reads a whole history,
stockpipe.store.session_marks the bars since a mark): the exchange calendar sent with the read
and the test that makes a step between two stored bars a hole.

The read stays in `ts` space: the calendar arrives as New York midnights (each session's and
the following session's), and only a step longer than a day (weekends, holidays, gaps: about a
fifth of the rows) meets it. Converting every stored time to a date cost more than the rest of
the scan.
"""

from __future__ import annotations

# A CTE: each session's midnight and the next session's, from two array parameters.
CALENDAR = """calendar AS (
    SELECT session_ts, following_ts
    FROM unnest(%(sessions)s::timestamptz[], %(following)s::timestamptz[])
        AS c(session_ts, following_ts)
)"""


def hole_test(rows: str) -> str:
    """Joins to rows `rows` (columns ts, next_ts: a bar and the one after it) the column
    `hole`: true when the step is longer than a day and is not from a session to the next."""
    return f"""LEFT JOIN calendar AS c ON c.session_ts = {rows}.ts
    CROSS JOIN LATERAL (
        SELECT {rows}.next_ts > {rows}.ts + interval '26 hours'
               AND {rows}.next_ts IS DISTINCT FROM c.following_ts
    ) AS h(hole)"""


def memory_of(symbol: str) -> str:
    """Two columns: the remembered vendor-missing and premium-reported sessions of `symbol`."""
    return f"""(SELECT array_agg(v.day) FROM vendor_missing_session AS v
        WHERE v.symbol = {symbol} AND v.series = %(series)s),
       (SELECT array_agg(n.day) FROM premium_gap_notice AS n
        WHERE n.symbol = {symbol} AND n.series = %(series)s)"""
