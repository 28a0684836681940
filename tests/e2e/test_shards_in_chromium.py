"""Per-symbol state of a sharded universe in the Dagster UI (headless Chromium): with
STOCK_UNIVERSE=listing, stock_job runs over the 64 shard partitions on a PostgreSQL instance, and
a shard's page shows the table of its symbols with their status. The screenshot goes to
artifacts/ui-shard-symbols.png."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
import psycopg
import pytest
from playwright.sync_api import Page, sync_playwright

from stockpipe import processes
from stockpipe.cli.webserver_api import LaunchError, Webserver
from stockpipe.defs.shards import shard_keys, shard_of
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store.embedded import start_throwaway_server
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.listings import ListedCompany
from tests.e2e.conftest import ARTIFACTS, BIN, REPO_ROOT
from tests.e2e.processes import ManagedProcess, free_port, start_process, wait_until

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]
# What the community dialog's Skip stores (dagster-webserver's NUX/CommunityNux.tsx): set before
# any page script runs, the dialog never opens over the page being photographed.
DISMISSED_COMMUNITY_DIALOG = (
    "try { window.localStorage.setItem('communityNux', JSON.stringify('1')); } catch (e) {}"
)
PASSWORD = "e2e-Shards-41c9"
TIMEOUT = 300.0
PAGE_TIMEOUT_MS = 90_000


@dataclass(frozen=True)
class ShardedStack:
    ui_url: str
    run_output: str


@pytest.fixture(scope="module")
def sharded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShardedStack]:
    """PostgreSQL, the fake with a three-company listing, one stock_job run over every shard
    (`dagster job execute`, as the schedule would launch it), then the webserver on that
    instance."""
    root = tmp_path_factory.mktemp("shards")
    logs = ARTIFACTS / "e2e-logs" / "shards"
    server = start_throwaway_server(root / "postgres", password=PASSWORD)
    fake = FakeAlphaVantage(history_length=40).start()
    webserver: ManagedProcess | None = None
    try:
        fake.set_listing(
            [
                ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
                ListedCompany("NEWC", "Newcomer Holdings", "NASDAQ", "Stock", date(2020, 1, 2)),
                ListedCompany(
                    "GONE", "Gone Away Inc", "NYSE", "Stock", date(2016, 1, 4),
                    latest_completed_session(),
                ),
            ]
        )  # fmt: skip
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "stockpipe"')
        home, cwd = root / "dagster_home", root / "cwd"
        home.mkdir()
        cwd.mkdir()
        shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
        env = {
            "PATH": f"{BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "DAGSTER_HOME": str(home),
            "POSTGRES_HOST": server.host,
            "POSTGRES_PORT": str(server.port),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": PASSWORD,
            "POSTGRES_DB": "stockpipe",
            "API_KEY": "e2e-test-key",
            "ALPHAVANTAGE_BASE_URL": fake.url,
            "API_POLITE_DELAY_SEC": "0",
            "API_CALLS_PER_MINUTE": "1000",
            "API_DAILY_BUDGET": "1000",
            "STOCK_UNIVERSE": "listing",
            "STOCKPIPE_DATA_DIR": str(root / "data"),
        }
        keys = shard_keys()
        tags = {
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        }
        run = processes.run(
            [
                *(str(BIN / "dagster"), "job", "execute", "-m", "stockpipe.definitions"),
                *("-j", "stock_job", "--tags", orjson.dumps(tags).decode()),
            ],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        port = free_port()
        webserver = start_process(
            "webserver",
            [
                *(str(BIN / "dagster-webserver"), "-m", "stockpipe.definitions"),
                *("--host", "127.0.0.1", "--port", str(port)),
            ],
            env=env,
            cwd=cwd,
            log_dir=logs,
        )
        ui_url = f"http://127.0.0.1:{port}"
        graphql = Webserver(ui_url)

        def stock_job_loaded() -> bool:
            try:
                return "stock_job" in graphql.jobs()
            except LaunchError:  # not listening yet
                return False

        wait_until(stock_job_loaded, timeout=TIMEOUT, what="the webserver", watch=[webserver])
        yield ShardedStack(ui_url, run.stdout + run.stderr)
    finally:
        if webserver is not None:
            webserver.stop()
        fake.stop()
        server.stop()


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: install Debian's `chromium` package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.add_init_script(DISMISSED_COMMUNITY_DIALOG)
            yield page
        finally:
            browser.close()


def test_a_shards_page_shows_its_symbols_and_their_status(
    sharded_stack: ShardedStack, page: Page
) -> None:
    shard = shard_of("KEEP")
    page.goto(f"{sharded_stack.ui_url}/assets/stock_data?view=partitions&partition={shard}")
    ARTIFACTS.mkdir(exist_ok=True)
    # The shard's table of symbols: KEEP's row with its status.
    try:
        page.get_by_text("KEEP", exact=True).first.wait_for(state="visible")
        page.get_by_text("loaded", exact=True).first.wait_for(state="visible")
    finally:
        # Kept on failure too: the picture is the quickest diagnosis.
        page.screenshot(path=str(ARTIFACTS / "ui-shard-symbols.png"), full_page=True)
    # Every shard materialized, empty ones too: the run covered the whole universe.
    assert page.get_by_text("Materialized (64)").first.is_visible()
    assert page.get_by_text("GONE", exact=True).count() == 0, "delisted: in no shard's table"
