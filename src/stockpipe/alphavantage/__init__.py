"""Alpha Vantage time-series client: request catalog, typed outcomes, classifier, parser."""

from stockpipe.alphavantage.actions import (
    ActionFunction,
    ActionRequest,
    Dividends,
    Splits,
)
from stockpipe.alphavantage.classify import Classified, classify_document, classify_response
from stockpipe.alphavantage.client import AlphaVantageClient, RawResponse
from stockpipe.alphavantage.errors import (
    AlphaVantageError,
    ApiUnreachable,
    BudgetExhausted,
    DemoKeyMisuse,
    EmptySeries,
    InvalidApiKey,
    InvalidCall,
    MalformedResponse,
    NetworkError,
    NoValidBars,
    Outcome,
    PremiumEndpoint,
    PremiumParameter,
    RateLimited,
    RateLimitScope,
    ServerError,
)
from stockpipe.alphavantage.gate import CallGate, OpenGate
from stockpipe.alphavantage.parse import SKIP_REASONS, ParsedSeries, parse_csv, parse_json
from stockpipe.alphavantage.series import (
    INTRADAY_INTERVALS,
    SPECS,
    FieldNames,
    Function,
    SeriesRequest,
    SeriesSpec,
)

__all__ = [
    "INTRADAY_INTERVALS",
    "SKIP_REASONS",
    "SPECS",
    "ActionFunction",
    "ActionRequest",
    "AlphaVantageClient",
    "AlphaVantageError",
    "ApiUnreachable",
    "BudgetExhausted",
    "CallGate",
    "Classified",
    "DemoKeyMisuse",
    "Dividends",
    "EmptySeries",
    "FieldNames",
    "Function",
    "InvalidApiKey",
    "InvalidCall",
    "MalformedResponse",
    "NetworkError",
    "NoValidBars",
    "OpenGate",
    "Outcome",
    "ParsedSeries",
    "PremiumEndpoint",
    "PremiumParameter",
    "RateLimitScope",
    "RateLimited",
    "RawResponse",
    "SeriesRequest",
    "SeriesSpec",
    "ServerError",
    "Splits",
    "classify_document",
    "classify_response",
    "parse_csv",
    "parse_json",
]
