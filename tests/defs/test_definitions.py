"""The Definitions Dagster loads: names, partitions, resources, secrets, configuration errors."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import (
    RepositorySnap,
    ResourceConfigEnvVarSnap,
)
from dagster_shared.serdes import serialize_value

from stockpipe import processes
from stockpipe.defs.resources import StockpipeResource
from stockpipe.settings import SettingsError
from tests.defs.conftest import PLACEHOLDER_KEY, PLACEHOLDER_PASSWORD, load_definitions

STOCK_DATA = dg.AssetKey("stock_data")


def test_definitions_load_with_placeholder_environment(placeholder_env: pytest.MonkeyPatch):
    defs = load_definitions()

    job = defs.resolve_job_def("stock_job")
    assert job.partitions_def is not None
    assert job.partitions_def.get_partition_keys() == ["IBM", "MSFT", "AAPL"]
    assert {spec.name for spec in defs.resolve_assets_def(STOCK_DATA).check_specs} == {
        "ohlc_sanity",
        "no_duplicate_keys",
        "freshness",
        "missing_sessions",
    }
    assets_def = defs.resolve_assets_def(STOCK_DATA)
    assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()
    assert assets_def.op.pool == "alphavantage"
    assert defs.resolve_schedule_def("daily_stock_schedule").job_name == "stock_job"


def test_the_resource_resolves_its_secrets_from_the_environment(
    placeholder_env: pytest.MonkeyPatch,
):
    resource = load_definitions().resources["stockpipe"]
    assert isinstance(resource, StockpipeResource)

    settings = resource.process_config_and_initialize().load_settings()

    assert settings.api_key.get_secret_value() == PLACEHOLDER_KEY
    assert settings.postgres_password is not None
    assert settings.postgres_password.get_secret_value() == PLACEHOLDER_PASSWORD
    assert settings.stock_symbols == ("IBM", "MSFT", "AAPL")


def test_the_ui_sees_secret_variable_names_never_their_values(
    placeholder_env: pytest.MonkeyPatch,
):
    repository = load_definitions().get_repository_def()
    snapshot = serialize_value(RepositorySnap.from_def(repository))

    assert PLACEHOLDER_KEY not in snapshot
    assert PLACEHOLDER_PASSWORD not in snapshot
    resources = RepositorySnap.from_def(repository).resources
    resource_snap = next(r for r in resources if r.name == "stockpipe")
    from_env = {
        name: value.name
        for name, value in resource_snap.configured_values.items()
        if isinstance(value, ResourceConfigEnvVarSnap)
    }
    assert from_env == {
        "api_key": "API_KEY",
        "postgres_password": "POSTGRES_PASSWORD",
    }


def test_without_any_configuration_the_demo_key_and_ibm_are_used(
    clean_env: pytest.MonkeyPatch,
):
    defs = load_definitions()
    resource = defs.resources["stockpipe"]
    assert isinstance(resource, StockpipeResource)

    settings = resource.process_config_and_initialize().load_settings()

    assert settings.api_key.get_secret_value() == "demo"
    assert defs.resolve_job_def("stock_job").partitions_def.get_partition_keys() == ["IBM"]  # type: ignore[union-attr]


def test_an_invalid_cron_is_a_load_time_error_naming_the_variable(
    placeholder_env: pytest.MonkeyPatch,
):
    placeholder_env.setenv("DAG_SCHEDULE_CRON", "0 25 * * *")
    sys.modules.pop("stockpipe.definitions", None)

    with pytest.raises(SettingsError) as caught:
        importlib.import_module("stockpipe.definitions")

    message = str(caught.value)
    assert message.startswith(
        "stockpipe cannot load its Dagster definitions: invalid configuration"
    )
    assert "DAG_SCHEDULE_CRON" in message
    assert "hour field: '25' is not in 0-23" in message


def test_dagster_validates_the_definitions_module(placeholder_env: pytest.MonkeyPatch):
    dagster = Path(sys.executable).parent / "dagster"

    completed = processes.run(
        [str(dagster), "definitions", "validate", "-m", "stockpipe.definitions"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Validation successful" in completed.stdout + completed.stderr
    assert PLACEHOLDER_KEY not in completed.stdout + completed.stderr


REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["-m", "stockpipe.definitions"], id="with -m, as a Dagster user types it"),
        pytest.param([], id="without -m, from [tool.dagster] in pyproject.toml"),
    ],
)
def test_dagster_commands_work_in_the_repository_root(
    clean_env: pytest.MonkeyPatch, argv: list[str]
) -> None:
    # A dagster.yaml in the root (needing POSTGRES_*) and a workspace.yaml (a code server on
    # :4000) made these fail there; the deployment's files now live in deploy/.
    clean_env.delenv("DAGSTER_HOME", raising=False)
    dagster = Path(sys.executable).parent / "dagster"
    completed = processes.run(
        [str(dagster), "definitions", "validate", *argv],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "All code locations passed validation" in completed.stdout + completed.stderr
    assert not (REPO_ROOT / "dagster.yaml").exists()
    assert not (REPO_ROOT / "workspace.yaml").exists()
