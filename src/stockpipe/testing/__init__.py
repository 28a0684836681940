"""Test doubles for the one external system stockpipe talks to, Alpha Vantage, and a silent
TCP server that stands for a hung database or proxy.

Shipped in the package (not tests/) because the compose smoke test, the benchmarks and the
local demo run the fake server as a process too. Imports are lazy so that
`python -m stockpipe.testing.fake_alphavantage` does not load that module twice.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stockpipe.testing.fake_alphavantage import CallRecord, FakeAlphaVantage, FakeConfig
    from stockpipe.testing.faults import Fault, FaultRule
    from stockpipe.testing.sockets import SilentServer

_HOMES = {
    "CallRecord": "stockpipe.testing.fake_alphavantage",
    "FakeAlphaVantage": "stockpipe.testing.fake_alphavantage",
    "FakeConfig": "stockpipe.testing.fake_alphavantage",
    "Fault": "stockpipe.testing.faults",
    "FaultRule": "stockpipe.testing.faults",
    "SilentServer": "stockpipe.testing.sockets",
}
__all__ = ["CallRecord", "FakeAlphaVantage", "FakeConfig", "Fault", "FaultRule", "SilentServer"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'stockpipe.testing' has no attribute {name!r}")
