"""The run-launcher variant (docker-compose.runlauncher.yml + deploy/dagster-runlauncher.yaml),
read as compose and Dagster read it. The variant itself runs on an engine in
scripts/runlauncher-smoke.sh; these checks need none."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.utils import parse_env_var
from dagster_docker import DockerRunLauncher
from docker.models.containers import _create_container_args
from docker.types import ContainerConfig

from stockpipe.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OVERRIDE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.runlauncher.yml").read_text())
INSTANCE_FILE = ROOT / "deploy" / "dagster-runlauncher.yaml"
INSTANCE: dict[str, Any] = yaml.safe_load(INSTANCE_FILE.read_text())
WRITER = ROOT / "deploy" / "runlauncher_instance.py"
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


def _instance_writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runlauncher_instance", WRITER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_template_lists_only_what_compose_always_sets() -> None:
    # Dagster refuses to launch when a listed variable is unset: these are set by compose.
    assert LAUNCHER["config"]["env_vars"] == [
        "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
        "STOCKPIPE_RUN_IMAGE", "STOCKPIPE_RUN_NETWORK",
    ]  # fmt: skip


def test_every_setting_set_for_the_daemon_reaches_the_runs_by_name_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_DB"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("POSTGRES_PASSWORD", "pw-Secret-1")
    monkeypatch.setenv("API_KEY", "key-Secret-2")
    monkeypatch.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    monkeypatch.delenv("ALERT_SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("STOCKPIPE_RUN_IMAGE", "stockpipe:local")
    monkeypatch.setenv("STOCKPIPE_RUN_NETWORK", "stockpipe-runs")
    target = tmp_path / "dagster.yaml"
    target.write_text("image's instance")
    _instance_writer().main([str(INSTANCE_FILE), str(target)])
    written = target.read_text()
    names = yaml.safe_load(written)["run_launcher"]["config"]["env_vars"]
    assert {"API_KEY", "STOCK_SYMBOLS", "POSTGRES_PASSWORD"} <= set(names)
    assert "ALERT_SLACK_WEBHOOK_URL" not in names  # unset: Dagster would refuse to launch
    assert set(names) <= SETTINGS_VARIABLES | {"STOCKPIPE_RUN_IMAGE", "STOCKPIPE_RUN_NETWORK"}
    assert "pw-Secret-1" not in written and "key-Secret-2" not in written
    # What the launcher does with them at launch: every name resolves, none is refused.
    config = yaml.safe_load(written)["run_launcher"]["config"]
    launcher = DockerRunLauncher(**process_config(DockerRunLauncher.config_type(), config).value)
    assert dict(parse_env_var(name) for name in launcher.env_vars)["API_KEY"] == "key-Secret-2"


def test_run_containers_are_removed_and_watched() -> None:
    assert LAUNCHER["config"]["container_kwargs"]["auto_remove"] is True
    assert INSTANCE["run_monitoring"]["enabled"] is True
    # One pool slot per run: the PostgreSQL call gate, not the pool, keeps the API quota.
    concurrency = INSTANCE["concurrency"]
    assert concurrency["pools"]["default_limit"] == concurrency["runs"]["max_concurrent_runs"]


def test_run_containers_do_not_inherit_the_images_healthcheck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The image's HEALTHCHECK asks the webserver's port: inherited by a run container (no
    # webserver in it), it turned "unhealthy" while its run went fine. Read from the instance
    # the daemon loads, turned into the engine's create request by docker-py itself.
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("POSTGRES_DB", "x")
    monkeypatch.setenv("STOCKPIPE_RUN_IMAGE", "stockpipe:local")
    monkeypatch.setenv("STOCKPIPE_RUN_NETWORK", "stockpipe-runs")
    _instance_writer().main([str(INSTANCE_FILE), str(tmp_path / "dagster.yaml")])
    config, _custom_class = dagster_instance_config(str(tmp_path))
    launcher_config = config["run_launcher"]["config"]
    launcher = DockerRunLauncher(
        **process_config(DockerRunLauncher.config_type(), launcher_config).value
    )
    api = "1.44"
    create = _create_container_args(
        {"image": "stockpipe:local", "command": ["dagster"], "version": api}
        | launcher.container_kwargs
    )
    request = ContainerConfig(api, **create)
    assert (request.get("Healthcheck") or {}).get("Test") == ["NONE"]  # none, not "inherit"
    assert request["HostConfig"]["AutoRemove"] is True


def test_the_storage_is_the_default_instances() -> None:
    assert INSTANCE["storage"] == BASE_INSTANCE["storage"]


def test_the_override_mounts_the_instance_and_gives_the_engine_to_daemon_and_webserver() -> None:
    services = OVERRIDE["services"]
    for name in ("code-server", "webserver"):
        assert MOUNT in services[name]["volumes"], name
    daemon = services["daemon"]
    assert "runlauncher_instance.py" in " ".join(daemon["command"])
    assert (
        "./deploy/runlauncher_instance.py:/opt/stockpipe/deploy/runlauncher_instance.py:ro"
        in (daemon["volumes"])
    )
    for name in ("daemon", "webserver"):
        assert "/var/run/docker.sock:/var/run/docker.sock" in services[name]["volumes"]
        [group] = services[name]["group_add"]
        assert group.startswith("${STOCKPIPE_DOCKER_GID:?")
        environment = services[name]["environment"]
        assert environment["STOCKPIPE_RUN_IMAGE"] == "${STOCKPIPE_IMAGE:-stockpipe:local}"
        assert environment["STOCKPIPE_RUN_NETWORK"] == "${STOCKPIPE_RUN_NETWORK:-stockpipe-runs}"
    # The network the runs join is the one compose creates for the stack.
    assert OVERRIDE["networks"]["default"]["name"] == "${STOCKPIPE_RUN_NETWORK:-stockpipe-runs}"
