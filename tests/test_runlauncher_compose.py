"""The run-launcher variant (docker-compose.runlauncher.yml + deploy/dagster-runlauncher.yaml),
read as compose and Dagster read it. The variant itself runs on an engine in
scripts/runlauncher-smoke.sh; these checks need none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster_docker import DockerRunLauncher

from stockpipe.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OVERRIDE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.runlauncher.yml").read_text())
INSTANCE_FILE = ROOT / "deploy" / "dagster-runlauncher.yaml"
INSTANCE: dict[str, Any] = yaml.safe_load(INSTANCE_FILE.read_text())
BASE_INSTANCE: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
LAUNCHER = INSTANCE["run_launcher"]
MOUNT = "./deploy/dagster-runlauncher.yaml:/opt/stockpipe/dagster_home/dagster.yaml:ro"
SETTINGS_VARIABLES = {str(f.validation_alias) for f in Settings.model_fields.values()}


@pytest.fixture
def run_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCKPIPE_RUN_IMAGE", "stockpipe:local")
    monkeypatch.setenv("STOCKPIPE_RUN_NETWORK", "stockpipe-runs")


def test_the_launcher_config_passes_docker_run_launchers_schema(run_env: None) -> None:
    assert (LAUNCHER["module"], LAUNCHER["class"]) == ("dagster_docker", "DockerRunLauncher")
    result = process_config(DockerRunLauncher.config_type(), LAUNCHER["config"])
    assert result.success, [e.message for e in result.errors or []]
    assert result.value["image"] == "stockpipe:local"
    assert result.value["network"] == "stockpipe-runs"


def test_docker_run_launcher_is_built_from_it(run_env: None) -> None:
    config = process_config(DockerRunLauncher.config_type(), LAUNCHER["config"]).value
    launcher = DockerRunLauncher(**config)
    assert launcher.image == "stockpipe:local"
    assert launcher.container_kwargs["auto_remove"] is True


def test_the_whole_instance_passes_dagsters_instance_schema(tmp_path: Path, run_env: None) -> None:
    (tmp_path / "dagster.yaml").write_text(INSTANCE_FILE.read_text())
    config, _custom_class = dagster_instance_config(str(tmp_path))
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 4
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_every_setting_reaches_a_run_container_by_name_only() -> None:
    names = LAUNCHER["config"]["env_vars"]
    # A name alone is copied from the daemon's environment at launch; NAME=value would put the
    # value into this file and the instance every run carries.
    assert all("=" not in name for name in names)
    missing = SETTINGS_VARIABLES - set(names)
    assert not missing, f"add {sorted(missing)} to env_vars in {INSTANCE_FILE.name}"
    assert set(names) - SETTINGS_VARIABLES == {"STOCKPIPE_RUN_IMAGE", "STOCKPIPE_RUN_NETWORK"}


def test_run_containers_are_removed_and_watched() -> None:
    assert LAUNCHER["config"]["container_kwargs"]["auto_remove"] is True
    assert INSTANCE["run_monitoring"]["enabled"] is True
    # One pool slot per run: the PostgreSQL call gate, not the pool, keeps the API quota.
    concurrency = INSTANCE["concurrency"]
    assert concurrency["pools"]["default_limit"] == concurrency["runs"]["max_concurrent_runs"]


def test_the_storage_is_the_default_instances() -> None:
    assert INSTANCE["storage"] == BASE_INSTANCE["storage"]


def test_the_override_mounts_the_instance_and_gives_the_engine_to_daemon_and_webserver() -> None:
    services = OVERRIDE["services"]
    for name in ("code-server", "daemon", "webserver"):
        assert MOUNT in services[name]["volumes"], name
    for name in ("daemon", "webserver"):
        assert "/var/run/docker.sock:/var/run/docker.sock" in services[name]["volumes"]
        [group] = services[name]["group_add"]
        assert group.startswith("${STOCKPIPE_DOCKER_GID:?")
        environment = services[name]["environment"]
        assert environment["STOCKPIPE_RUN_IMAGE"] == "${STOCKPIPE_IMAGE:-stockpipe:local}"
        assert environment["STOCKPIPE_RUN_NETWORK"] == "${STOCKPIPE_RUN_NETWORK:-stockpipe-runs}"
    # The network the runs join is the one compose creates for the stack.
    assert OVERRIDE["networks"]["default"]["name"] == "${STOCKPIPE_RUN_NETWORK:-stockpipe-runs}"
