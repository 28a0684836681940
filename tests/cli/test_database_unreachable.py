"""Every command, `up` included, meets an unreachable database the same way: bounded retries,
then one line naming the variables to fix, exit code 3, no traceback, never the password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stockpipe.store.embedded import free_port, start_throwaway_server

STOCKPIPE = str(Path(sys.executable).parent / "stockpipe")
PASSWORD = "Sekrit-pw-9913"
# Every command that touches the database (fetch and alerts test do not).
COMMANDS = [
    ["up"],
    ["ingest"],
    ["status"],
    ["actions"],
    ["backfill"],
    ["db", "migrate"],
    ["db", "psql", "-c", "SELECT 1"],
]
HOST_PORT_ADVICE = (
    "is PostgreSQL running there? Check POSTGRES_HOST and POSTGRES_PORT"
    " (unset POSTGRES_HOST to use the embedded database)"
)


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [STOCKPIPE, *args],
        check=False,
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_clean_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines()[-1] == expected
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert PASSWORD not in output


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_an_unreachable_postgres_host_ends_every_command_in_one_line_with_exit_3(
    args: list[str], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_PASSWORD": PASSWORD,
        "STOCKPIPE_DATA_DIR": str(tmp_path / "data"),
    }
    done = run(args, env, tmp_path)
    command = " ".join(args[:2]) if args[0] == "db" else args[0]
    assert_one_clean_line(
        done,
        f"stockpipe {command}: cannot connect to PostgreSQL at"
        f" postgres://postgres@127.0.0.1:{port}/postgres after 6 attempts: Connection refused;"
        f" {HOST_PORT_ADVICE}",
    )
    # The retries were said as they happened, with libpq's reason, not its hint line.
    assert done.stderr.count("failed (Connection refused); retry") == 5


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args", [["up"], ["status"]], ids=" ".join)
def test_an_unreachable_database_url_is_named_as_the_variable_to_check(
    args: list[str], tmp_path: Path
) -> None:
    port = free_port()
    url = f"postgresql://stock:{PASSWORD}@127.0.0.1:{port}/stocks"
    env = {"DATABASE_URL": url, "STOCKPIPE_DATA_DIR": str(tmp_path / "data")}
    done = run(args, env, tmp_path)
    assert_one_clean_line(
        done,
        f"stockpipe {args[0]}: cannot connect to PostgreSQL at"
        f" postgres://stock@127.0.0.1:{port}/stocks after 6 attempts: Connection refused;"
        " check DATABASE_URL",
    )


@pytest.mark.timeout(180)
def test_a_refused_login_names_the_user_and_password_variables_at_once(tmp_path: Path) -> None:
    server = start_throwaway_server(tmp_path / "pg", password="Corr3ct-h0rse")
    try:
        env = {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(server.port),
            "POSTGRES_PASSWORD": PASSWORD,
            "STOCKPIPE_DATA_DIR": str(tmp_path / "data"),
        }
        done = {name: run([name], env, tmp_path) for name in ("up", "ingest")}
    finally:
        server.stop()
    for name, finished in done.items():
        assert_one_clean_line(
            finished,
            f"stockpipe {name}: cannot connect to PostgreSQL at"
            f" postgres://postgres@127.0.0.1:{server.port}/postgres: password authentication"
            ' failed for user "postgres"; check POSTGRES_USER and POSTGRES_PASSWORD',
        )
        assert "retry" not in finished.stderr, "a refused login is not retried"


@pytest.mark.timeout(120)
def test_make_airflow_up_meets_an_unreachable_database_the_same_way(tmp_path: Path) -> None:
    # `make airflow-up` runs this module; it fails on the database before it needs Airflow.
    port = free_port()
    env = {
        **os.environ,
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_PASSWORD": PASSWORD,
        "STOCKPIPE_DATA_DIR": str(tmp_path / "data"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "stockpipe.airflow.up"],
        check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert_one_clean_line(
        done,
        f"stockpipe airflow-up: cannot connect to PostgreSQL at"
        f" postgres://postgres@127.0.0.1:{port}/postgres after 6 attempts: Connection refused;"
        f" {HOST_PORT_ADVICE}",
    )


def test_a_database_fault_no_command_handled_still_ends_in_one_line_and_exit_3() -> None:
    import click
    from click.testing import CliRunner

    from stockpipe.cli import main
    from stockpipe.store import DatabaseError

    message = "cannot connect to PostgreSQL at postgres://u@h:1/d: Connection refused; check X"

    @click.command(name="probe-database-fault")
    def probe() -> None:
        raise DatabaseError(message)

    main.add_command(probe)
    try:
        result = CliRunner().invoke(main, ["probe-database-fault"])
    finally:
        main.commands.pop("probe-database-fault")
    assert (result.exit_code, result.output) == (3, f"stockpipe probe-database-fault: {message}\n")
