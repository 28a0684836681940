"""How far apart calls start, and how many may be in flight at once.

Calls are paced evenly by start time (no bursts: Alpha Vantage answers bursts with notices):
one call every `spacing_sec` per key, the larger of API_POLITE_DELAY_SEC and the per-minute
cap's interval. The cap's interval carries a small guard, because the vendor counts calls as
they arrive, and a worker that wakes a little late for its slot would otherwise put two calls
closer than the interval: (60 s + MINUTE_GUARD_SEC) / API_CALLS_PER_MINUTE (at 1,200 a minute,
51.7 ms instead of 50: 3.3% of the rate for two seconds of slack in every minute; measured on a
loaded 2-core machine, a quarter second was not enough, and with one second the fake, in a
container beside four run containers at load 5-17, once counted 121 calls for a cap of 120).

In flight, by Little's law (calls in flight = arrival rate x time in the system): at the
key's rate r (calls a second) and a reply time W, r x W calls are in flight on average. The
default API_MAX_IN_FLIGHT takes W = TYPICAL_LATENCY_SEC (Alpha Vantage answers in a few
hundred milliseconds) and doubles it for slow tails: ceil(2 x r x W), at least 1, at most
MAX_IN_FLIGHT_DEFAULT_CAP. A free key (5 a minute, 12 s apart) gets 1; 300 a minute 5;
1,200 a minute 20.
"""

from __future__ import annotations

import math

from stockpipe.settings import Settings

MINUTE_GUARD_SEC = 2.0
# A worker that wakes this much later than its slot gives it back and claims another: it
# would start too close to the call the per-minute cap counts from (see the module docstring).
# Calls then leave within LATE_SLOT_SEC of their slots, so any 60 s at the vendor holds calls
# of slots within 60 s + LATE_SLOT_SEC, never more than the cap while LATE_SLOT_SEC plus the
# request's way to the vendor stays under MINUTE_GUARD_SEC (1.5 s left for the way: docs/
# architecture.md, "The cap as the vendor counts it").
LATE_SLOT_SEC = 0.5
TYPICAL_LATENCY_SEC = 0.5
MAX_IN_FLIGHT_DEFAULT_CAP = 32


def spacing_sec(settings: Settings) -> float:
    """Seconds between two call starts on the key (before any throttle slow-down)."""
    per_minute = (60.0 + MINUTE_GUARD_SEC) / settings.api_calls_per_minute
    return max(settings.api_polite_delay_sec, per_minute)


def default_in_flight(settings: Settings) -> int:
    rate = 1.0 / spacing_sec(settings)
    wanted = math.ceil(2 * rate * TYPICAL_LATENCY_SEC - 1e-9)
    return max(1, min(MAX_IN_FLIGHT_DEFAULT_CAP, wanted))


def max_in_flight(settings: Settings) -> int:
    """API_MAX_IN_FLIGHT, or the default derived from the rate (see the module docstring)."""
    return settings.api_max_in_flight or default_in_flight(settings)
