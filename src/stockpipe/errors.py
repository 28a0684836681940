"""One root for every error stockpipe raises on purpose, so a caller can catch one thing.

    StockpipeError
    ├── SettingsError                 settings.py: a bad or missing variable, named
    │     (also a ValueError)
    ├── CronError                     cron.py: a schedule that is not a 5-field UTC cron
    │     (also a ValueError)
    ├── AlphaVantageError             alphavantage/errors.py: one call's failure, typed
    │   ├── RateLimited               retry later (HTTP 200 "Note"/"Information")
    │   │   └── BudgetExhausted       our own daily budget is spent (the call gate)
    │   ├── PremiumEndpoint, PremiumParameter, DemoKeyMisuse, InvalidApiKey, InvalidCall
    │   ├── ServerError, MalformedResponse
    │   ├── NetworkError
    │   │   └── ApiUnreachable        no attempt reached the API (DNS, refused, TLS)
    │   └── NoValidBars               a reply whose every bar failed validation
    ├── UnknownTimeZone               alphavantage/timezones.py (also a ValueError)
    └── DatabaseError                 store/errors.py: retrying will not fix it
        ├── TransientDatabaseError    a fault that outlived its retries
        └── MigrationError            the schema does not match this release

Messages say what to do next and never contain the API key or a password.
"""

from __future__ import annotations


class StockpipeError(Exception):
    """Base of every error stockpipe raises on purpose; `str()` is the user-facing message."""
