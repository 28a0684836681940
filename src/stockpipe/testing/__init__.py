"""Test doubles for the one external system stockpipe talks to: Alpha Vantage.

Shipped in the package (not tests/) because the compose smoke test, the benchmarks and the
local demo run the fake server as a process too.
"""

from stockpipe.testing.fake_alphavantage import CallRecord, FakeAlphaVantage, FakeConfig
from stockpipe.testing.faults import Fault, FaultRule

__all__ = ["CallRecord", "FakeAlphaVantage", "FakeConfig", "Fault", "FaultRule"]
