"""The fake's corporate actions: deterministic per symbol, steerable over HTTP, and the daily
series (raw and adjusted) follows them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import requests

from stockpipe.alphavantage import Function
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import action_rows, daily_history

END = date(2024, 5, 8)


def _get(fake: FakeAlphaVantage, function: str, symbol: str = "IBM") -> dict[str, object]:
    query = {"function": function, "symbol": symbol, "apikey": fake.api_key}
    answer = requests.get(fake.url, params=query, timeout=30).json()
    assert isinstance(answer, dict)
    return answer


def test_both_functions_answer_with_the_vendors_shape(fake_av: FakeAlphaVantage) -> None:
    fake_av.configure(end_date=END)
    splits = _get(fake_av, "SPLITS")
    dividends = _get(fake_av, "DIVIDENDS")
    assert splits == {"symbol": "IBM", "data": action_rows("IBM", END)[0]}
    assert set(splits["data"][0]) == {"effective_date", "split_factor"}  # type: ignore[index]
    assert set(dividends["data"][0]) == {  # type: ignore[index]
        "ex_dividend_date", "declaration_date", "record_date", "payment_date", "amount",
    }  # fmt: skip
    # Newest first, led by a declared dividend whose ex-date lies ahead and payment is unknown.
    newest = dividends["data"][0]  # type: ignore[index]
    assert date.fromisoformat(newest["ex_dividend_date"]) > END and newest["payment_date"] == "None"


def test_the_default_schedule_splits_mid_history_and_the_raw_series_follows_it() -> None:
    history = daily_history("IBM", END)
    split_days = [bar for bar in history if bar.split != 1]
    assert split_days, "every symbol gets a split about every ten years"
    index = history.index(split_days[0])
    ratio = history[index - 1].close / history[index].close
    assert abs(ratio / split_days[0].split - 1) < Decimal("0.1")
    # The newest adjusted close is the close itself; older ones are lowered by the actions.
    assert history[-1].adjusted_close == history[-1].close
    assert history[0].adjusted_close < history[0].close


def test_actions_set_over_http_are_served_exactly_and_restate_the_series(
    fake_av: FakeAlphaVantage,
) -> None:
    fake_av.configure(end_date=END)
    before = _get(fake_av, Function.DAILY_ADJUSTED.value)["Time Series (Daily)"]
    # The symbol's splits so far, and a new one: the list given replaces the default one.
    splits = [{"effective_date": "2024-05-01", "split_factor": "2.0000"}]
    splits += action_rows("IBM", END)[0]
    answer = requests.post(
        f"http://{fake_av.host}:{fake_av.port}/_control/actions",
        json={"symbol": "IBM", "splits": splits},
        timeout=10,
    )
    assert answer.status_code == 200
    assert _get(fake_av, "SPLITS")["data"] == splits
    after = _get(fake_av, Function.DAILY_ADJUSTED.value)["Time Series (Daily)"]
    assert isinstance(before, dict) and isinstance(after, dict)
    # A split leaves earlier bars as traded, and halves their adjusted close.
    adjusted = "5. adjusted close"
    assert {**after["2024-04-30"], adjusted: "-"} == {**before["2024-04-30"], adjusted: "-"}
    assert (
        after["2024-04-30"][adjusted]
        == "44.5805"
        == str(
            (Decimal(before["2024-04-30"][adjusted]) / 2).quantize(
                Decimal("0.0001"), "ROUND_HALF_UP"
            )
        )
    )
    assert after["2024-05-01"]["8. split coefficient"] == "2.0000"
    halved = Decimal(before["2024-05-01"]["4. close"]) / 2
    assert Decimal(after["2024-05-01"]["4. close"]) == halved.quantize(Decimal("0.0001"))
    # Dividends were left as they were: only the kind given is replaced.
    assert _get(fake_av, "DIVIDENDS")["data"] == action_rows("IBM", END)[1]
