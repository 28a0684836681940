"""AlertService: rules, rendering and delivery together, against a real webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stockpipe.alerts import AlertService, CheckOutcome, RetryPolicy
from stockpipe.alerts.channels import SlackWebhook
from stockpipe.alerts.incidents import RUN_KINDS, open_incidents, pending
from stockpipe.store import Database
from stockpipe.store.embedded import free_port
from tests.alerts.helpers import run, symbol
from tests.fixtures.alert_receivers import WEBHOOK_PATH, WebhookReceiver

API_KEY = "AVKEY-alerts-7731-secret"
FAST = RetryPolicy(retries=1, first_delay_sec=0.01)


def service(db: Database, url: str) -> AlertService:
    return AlertService(
        db,
        [SlackWebhook(url, timeout=5)],
        policy=FAST,
        consecutive_runs=3,
        stale_after_hours=36,
        secrets=[API_KEY],
    )


def test_a_failing_job_alerts_once_and_recovers_once(db: Database, webhook: WebhookReceiver):
    alerts = service(db, webhook.webhook_url)
    first = run(
        symbol("IBM", "loaded"),
        symbol("XYZ", "failed", "Alpha Vantage rejected the symbol: Invalid API call"),
        error="2 symbols: 1 loaded, 1 failed",
    )

    alerts.observe_runs([first])
    [alert] = webhook.delivered()
    assert alert.text == (
        "*stockpipe: run of stock_job failed*\n"
        "Job: stock_job\n"
        f"Run: {first.run_id}\n"
        "Symbols: 1 loaded, 1 failed\n"
        "Failed:\n"
        "  stock_data/XYZ: Alpha Vantage rejected the symbol: Invalid API call\n"
        "Error: 2 symbols: 1 loaded, 1 failed\n"
        f"{first.url}"
    )

    alerts.observe_runs([run(symbol("XYZ", "failed", "again"))])
    assert len(webhook.delivered()) == 1

    good = run(symbol("XYZ", "loaded"))
    alerts.observe_runs([good])
    recovery = webhook.delivered()[1]
    assert recovery.text == (
        "*stockpipe: stock_job recovered*\n"
        f"Run {good.run_id} of stock_job succeeded after 2 failed runs since"
        f" {first.finished_at:%Y-%m-%d %H:%M} UTC.\n"
        f"{good.url}"
    )


def test_streaks_of_many_symbols_arrive_as_one_message(db: Database, webhook: WebhookReceiver):
    alerts = service(db, webhook.webhook_url)
    for _ in range(3):
        outcomes = (
            symbol("IBM", "deferred", "daily budget spent"),
            symbol("MSFT", "deferred", "daily budget spent"),
        )
        third = run(*outcomes, succeeded=True)
        alerts.observe_runs([third])

    [alert] = webhook.delivered()
    assert alert.text == (
        "*stockpipe: 2 symbols failed or deferred run after run*\n"
        "stock_data/IBM: deferred in 3 consecutive runs; last: daily budget spent\n"
        "stock_data/MSFT: deferred in 3 consecutive runs; last: daily budget spent\n"
        f"{third.url}"
    )


def test_a_failed_check_names_the_check_and_the_symbols(db: Database, webhook: WebhookReceiver):
    check = CheckOutcome(
        "stock_data",
        "ohlc_sanity",
        False,
        "2 of 200 rows have inconsistent prices",
        ("IBM 2026-11-02: high < low", "MSFT 2026-11-03: negative value"),
        ("IBM", "MSFT"),
    )
    checked = run(succeeded=True, checks=(check,))

    service(db, webhook.webhook_url).observe_runs([checked])

    [alert] = webhook.delivered()
    assert alert.text == (
        "*stockpipe: 1 asset check failed*\n"
        "stock_data:ohlc_sanity: 2 of 200 rows have inconsistent prices\n"
        "  symbols: IBM, MSFT\n"
        "  IBM 2026-11-02: high < low\n"
        "  MSFT 2026-11-03: negative value\n"
        f"{checked.url}"
    )


def test_the_api_key_and_passwords_never_reach_a_message(db: Database, webhook: WebhookReceiver):
    leaky = run(
        symbol("IBM", "failed", f"GET /query?function=TIME_SERIES_DAILY&apikey={API_KEY} failed"),
        error="connection to postgresql://stockpipe:db-Pw-123@db:5432/x refused",
    )

    service(db, webhook.webhook_url).observe_runs([leaky])

    [alert] = webhook.delivered()
    assert API_KEY not in alert.text
    assert "db-Pw-123" not in alert.text
    assert "apikey=***" in alert.text
    assert "postgresql://stockpipe:***@db" in alert.text


def test_an_alert_no_channel_took_is_sent_at_the_next_tick(db: Database, webhook: WebhookReceiver):
    down = service(db, f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}")
    down.observe_runs([run(symbol("IBM", "failed"))])
    [waiting], _ = pending(db, RUN_KINDS)
    assert not waiting.recovered

    service(db, webhook.webhook_url).send_pending(RUN_KINDS)

    [alert] = webhook.delivered()
    assert alert.text.startswith("*stockpipe: run of stock_job failed*")
    assert pending(db, RUN_KINDS) == ([], [])


def test_an_alert_no_channel_took_for_a_day_is_dropped(db: Database):
    down = service(db, f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}")
    failed = run(symbol("IBM", "failed"))
    down.observe_runs([failed])
    [waiting], _ = pending(db, RUN_KINDS)

    down.send_pending(RUN_KINDS, now=waiting.pending_since + timedelta(hours=23))
    assert len(pending(db, RUN_KINDS)[0]) == 1
    down.send_pending(RUN_KINDS, now=waiting.pending_since + timedelta(days=1, minutes=1))
    assert pending(db, RUN_KINDS) == ([], [])


def test_a_channel_that_failed_is_not_tried_again_in_the_same_tick(
    db: Database, webhook: WebhookReceiver
):
    alerts = service(db, webhook.webhook_url)
    check = CheckOutcome("stock_data", "ohlc_sanity", False, "1 of 9 rows")
    webhook.fail_next(2)  # both attempts at the first message

    # Two runs, two messages: the failure of one, the failed check of another job's run.
    checked = run(succeeded=True, checks=(check,), job="weekly_job")
    alerts.observe_runs([run(symbol("IBM", "failed")), checked])

    assert [r.status for r in webhook.requests] == [500, 500]
    assert len(pending(db, RUN_KINDS)[0]) == 2  # both wait for the next tick
    alerts.send_pending(RUN_KINDS)
    assert len(webhook.delivered()) == 2


def _insert(db: Database, table: str, symbol: str, day: str, period: str | None = None) -> None:
    extra, value = (", period_start", ", %s") if period else ("", "")
    db.run(
        lambda conn: conn.execute(
            f"INSERT INTO {table} (symbol, ts, open, high, low, close, volume, raw{extra})"
            f" VALUES (%s, (%s::timestamp AT TIME ZONE 'America/New_York'), 1, 1, 1, 1, 1,"
            f" '{{}}'{value})",
            (symbol, day, period) if period else (symbol, day),
        )
    )


def test_daily_and_weekly_staleness_open_and_recover_as_separate_incidents(
    db: Database, webhook: WebhookReceiver
):
    alerts = service(db, webhook.webhook_url)
    _insert(db, "stock_data", "IBM", "2026-03-27")
    _insert(db, "stock_data_weekly", "IBM", "2026-03-27", "2026-03-23")
    # Long stale, but monthly is not scheduled: never an alert.
    _insert(db, "stock_data_monthly", "IBM", "2026-01-30", "2026-01-01")
    scheduled = ("daily", "weekly")

    def tick(*at: int) -> list[str]:
        before = len(webhook.delivered())
        alerts.observe_freshness(["IBM"], series=scheduled, now=datetime(*at, tzinfo=UTC))
        return [r.text for r in webhook.delivered()[before:]]

    # Wednesday: monday's and tuesday's daily bars are overdue; last week's row is in.
    assert tick(2026, 4, 1, 12) == [
        "*stockpipe: 1 symbol stale for more than 36 h*\n"
        "daily/IBM in stock_data: newest bar 2026-03-27, 2 sessions missing since 2026-03-30\n"
        "Usual causes: the API budget ran out, the schedule is off, or the daemon was down;"
        " `stockpipe status` shows each symbol's last result."
    ]
    for day in ("2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02"):
        _insert(db, "stock_data", "IBM", day)
    # Good Friday: daily is back; the short week's row is not due before 04-04 08:00 UTC.
    assert tick(2026, 4, 3, 12) == [
        "*stockpipe: 1 symbol up to date again*\n"
        "daily/IBM in stock_data: fresh again, newest bar 2026-04-02"
    ]
    [weekly] = tick(2026, 4, 4, 8)
    assert weekly.splitlines()[1] == (
        "weekly/IBM in stock_data_weekly: newest bar 2026-03-27, 1 week missing since 2026-04-02"
    )
    assert tick(2026, 4, 5, 8) == []  # still the same incident: nothing new to say
    _insert(db, "stock_data_weekly", "IBM", "2026-04-02", "2026-03-30")
    assert tick(2026, 4, 6, 12) == [
        "*stockpipe: 1 symbol up to date again*\n"
        "weekly/IBM in stock_data_weekly: fresh again, newest bar 2026-04-02"
    ]
    assert open_incidents(db) == []


def test_a_stale_series_leaving_stock_series_closes_its_incident(
    db: Database, webhook: WebhookReceiver
):
    alerts = service(db, webhook.webhook_url)
    _insert(db, "stock_data_monthly", "IBM", "2026-08-31", "2026-08-01")
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    assert alerts.observe_freshness(["IBM"], series=("monthly",), now=now) == 1
    assert open_incidents(db) == [("stale", "monthly/IBM", 1)]

    assert alerts.observe_freshness(["IBM"], series=("daily",), now=now) == 0

    assert open_incidents(db) == []
    assert webhook.delivered()[-1].text.splitlines()[1] == (
        "monthly/IBM in stock_data_monthly: fresh again, newest bar none"
        " (series no longer in STOCK_SERIES)"
    )


def test_what_one_run_caused_is_one_message_and_its_recovery_another(
    db: Database, webhook: WebhookReceiver
):
    alerts = service(db, webhook.webhook_url)
    alerts.consecutive_runs = 1  # the streak opens in the same run
    missing = CheckOutcome(
        "stock_data", "freshness", False, "1 of 2 symbols hold no bar", ("XYZ: no bar",), ("XYZ",)
    )
    failed = run(
        symbol("IBM", "loaded"),
        symbol("XYZ", "failed", "Alpha Vantage rejected the symbol"),
        checks=(missing,),
        error="2 symbols: 1 loaded, 1 failed",
    )

    alerts.observe_runs([failed])

    [alert] = webhook.delivered()
    assert alert.text.splitlines() == [
        "*stockpipe: run of stock_job failed*",
        "Job: stock_job",
        f"Run: {failed.run_id}",
        "Symbols: 1 loaded, 1 failed",
        "Failed:",
        "  stock_data/XYZ: Alpha Vantage rejected the symbol",
        "Error: 2 symbols: 1 loaded, 1 failed",
        "",
        "1 asset check failed:",
        "stock_data:freshness: 1 of 2 symbols hold no bar",
        "  symbols: XYZ",
        "  XYZ: no bar",
        "",
        "1 symbol failed or deferred run after run:",
        "stock_data/XYZ: failed in 1 consecutive runs; last: Alpha Vantage rejected the symbol",
        failed.url,
    ]
    assert [kind for kind, _, _ in open_incidents(db)] == [
        "run_failed",
        "symbol_streak",
        "check_failed",
    ]

    passed = CheckOutcome("stock_data", "freshness", True, "2 of 2 symbols hold the session")
    good = run(symbol("IBM", "up_to_date"), symbol("XYZ", "loaded"), checks=(passed,))
    alerts.observe_runs([good])

    recovery = webhook.delivered()[1]
    assert recovery.text.splitlines() == [
        "*stockpipe: stock_job recovered*",
        f"Run {good.run_id} of stock_job succeeded after 1 failed run since"
        f" {failed.finished_at:%Y-%m-%d %H:%M} UTC.",
        "",
        "1 asset check passes again:",
        "stock_data:freshness: passes again (2 of 2 symbols hold the session)",
        "",
        "1 symbol recovered:",
        f"stock_data/XYZ: loaded in run {good.run_id}, after 1 failed or deferred runs in a row",
        good.url,
    ]
    assert len(webhook.delivered()) == 2
    assert open_incidents(db) == []


def test_run_ids_seen_more_than_a_week_ago_are_pruned(db: Database, webhook: WebhookReceiver):
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for run_id, age in (("old-run", timedelta(days=8)), ("recent-run", timedelta(days=6))):
        db.run(
            lambda conn, r=run_id, a=age: conn.execute(
                "INSERT INTO alert_run_seen (run_id, seen_at) VALUES (%s, %s)", (r, now - a)
            )
        )

    service(db, webhook.webhook_url).observe_runs([run(symbol("IBM", "loaded"))], now=now)

    seen = db.run(
        lambda conn: conn.execute(
            "SELECT run_id, seen_at FROM alert_run_seen ORDER BY run_id"
        ).fetchall()
    )
    assert [(r, now - at) for r, at in seen] == [
        ("recent-run", timedelta(days=6)),
        (seen[1][0], timedelta(0)),  # the run just seen, stamped with the tick's time
    ]
    assert seen[1][0].startswith("run-")
