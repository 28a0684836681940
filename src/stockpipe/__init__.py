"""stockpipe: keep a PostgreSQL database of Alpha Vantage stock prices fresh."""

__version__ = "0.1.0"
