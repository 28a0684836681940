"""A dependency-free check of five-field cron expressions, so bad schedules fail at start-up.

Dagster validates the expression again when it builds the schedule; this check lets the
library (and the CLI) reject a typo with a clear message without importing Dagster.
"""

from __future__ import annotations

import re

from stockpipe.errors import StockpipeError

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name, lowest, highest, names allowed in place of numbers)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_ITEM = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


class CronError(StockpipeError, ValueError):
    """The expression is not a valid five-field cron schedule."""


def _value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    number = names.get(token) if not token.isdigit() else int(token)
    if number is None or not low <= number <= high:
        raise CronError(f"{name} field: {token!r} is not in {low}-{high}")
    return number


def validate_cron(expression: str) -> str:
    """Return the normalised expression, or raise CronError naming the bad field."""
    text = _ALIASES.get(expression.strip().lower(), expression.strip().lower())
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"{expression!r} has {len(parts)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week), e.g. '0 6 * * *'"
        )
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        for item in part.split(","):
            match = _ITEM.match(item)
            if match is None:
                raise CronError(f"{name} field: {item!r} is not a cron item")
            step = match.group("step")
            if step is not None and int(step) == 0:
                raise CronError(f"{name} field: step 0 in {item!r}")
            span = match.group("range")
            if span == "*":
                continue
            bounds = [_value(t, name, low, high, names) for t in span.split("-")]
            if len(bounds) == 2 and bounds[0] > bounds[1]:
                raise CronError(f"{name} field: range {item!r} runs backwards")
    return " ".join(parts)
