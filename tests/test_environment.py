"""The suite's one environment isolation (tests/fixtures/environment.py) covers every setting."""

from __future__ import annotations

import os
from pathlib import Path

from stockpipe.settings import Settings
from tests.fixtures.environment import STOCKPIPE_VARIABLES


def test_every_settings_variable_is_isolated() -> None:
    aliases = {str(field.validation_alias) for field in Settings.model_fields.values()}
    # The five the Dagster tests' own list used to miss are among them.
    assert {
        "API_CONNECT_TIMEOUT_SEC", "API_READ_TIMEOUT_SEC", "API_REJECTED_SYMBOL_RETRY_DAYS",
        "STOCKPIPE_EMBEDDED_PG_PORT", "STOCKPIPE_LOG_LEVEL",
    } <= aliases  # fmt: skip
    assert aliases == STOCKPIPE_VARIABLES
    leaked = [name for name in os.environ if name.upper() in STOCKPIPE_VARIABLES]
    assert leaked == []


def test_a_test_runs_where_no_env_file_lies(tmp_path: Path) -> None:
    assert Path.cwd() == tmp_path
    assert not Path(".env").exists()
    assert Settings.load().api_key.get_secret_value() == "demo"
