"""docker-compose.yml, read as compose reads it (the Docker stack itself runs in
scripts/compose-smoke.sh, which needs an engine; these checks need none)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from stockpipe.redact import masked_anywhere

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SMOKE = (ROOT / "scripts" / "compose-smoke.sh").read_text()
STOCKPIPE_IMAGE = "${STOCKPIPE_IMAGE:-stockpipe:local}"


def test_the_stockpipe_image_is_built_once_and_run_by_every_stockpipe_service() -> None:
    users = sorted(
        name for name, service in SERVICES.items() if service.get("image") == STOCKPIPE_IMAGE
    )
    builders = [name for name in users if "build" in SERVICES[name]]
    assert users == ["code-server", "daemon", "fake-alphavantage", "webserver"]
    # Compose builds in parallel: a second `build:` of the same image installs the dependencies
    # again and leaves an untagged copy. code-server is in every `up` (daemon and webserver
    # depend on it), so its build always comes first.
    assert builders == ["code-server"]
    for name in users:
        if name not in builders:
            assert SERVICES[name]["pull_policy"] == "never", name  # no registry has it
    assert "code-server" in SERVICES["webserver"]["depends_on"]


def test_the_smoke_test_builds_its_own_image_in_its_own_project() -> None:
    [image] = re.findall(r"^export STOCKPIPE_IMAGE=(.+)$", SMOKE, re.MULTILINE)
    [project] = re.findall(r"^export COMPOSE_PROJECT_NAME=(.+)$", SMOKE, re.MULTILINE)
    assert image == "${SMOKE_IMAGE:-stockpipe-smoke:local}"
    assert project == "${SMOKE_PROJECT:-stockpipe-smoke}"


def test_the_default_database_password_is_not_a_word() -> None:
    # `stockpipe` (the user's, database's and project's name too) was masked in every line.
    defaults = set(
        re.findall(r"\$\{POSTGRES_PASSWORD:-([^}]+)\}", (ROOT / "docker-compose.yml").read_text())
    )
    assert len(defaults) == 1
    assert masked_anywhere(defaults.pop())


def test_the_readme_says_where_the_airflow_password_is_after_the_first_start() -> None:
    # Airflow prints the password it generates once; a recreated container prints none.
    [home] = re.findall(r"AIRFLOW_HOME=(\S+)", (ROOT / "deploy" / "airflow.Dockerfile").read_text())
    passwords = "simple_auth_manager_passwords.json.generated"
    assert passwords in (ROOT / "src" / "stockpipe" / "airflow" / "up.py").read_text()
    assert SERVICES["airflow"]["volumes"] == [f"airflow-home:{home}"]
    readme = (ROOT / "README.md").read_text()
    assert f"docker compose exec airflow cat {home}/{passwords}" in readme
