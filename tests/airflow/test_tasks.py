"""The task bodies' translation of library results and errors into Airflow outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from airflow.sdk.exceptions import AirflowFailException

from stockpipe.airflow import tasks
from stockpipe.airflow.tasks import ChunkSummary
from stockpipe.settings import Settings
from stockpipe.store import DatabaseError, TransientDatabaseError

PASSWORD = "pw-Hq81-never-shown"


def chunk(**fields: object) -> ChunkSummary:
    values: dict[str, object] = dict(
        symbols=2, calls=2, inserted=200, updated=0, unchanged=0, skipped=0,
        counts={"loaded": 2}, failed={}, deferred=[], message="",
    )  # fmt: skip
    values.update(fields)
    return ChunkSummary(**values)  # type: ignore[typeddict-item]


def test_check_adds_up_the_chunks_and_passes_when_only_deferred_symbols_are_left():
    totals = tasks.check([chunk(), chunk(symbols=3, calls=1, inserted=100, deferred=["C", "D"])])

    assert {k: totals[k] for k in ("symbols", "calls", "inserted")} == {
        "symbols": 5,
        "calls": 3,
        "inserted": 300,
    }
    assert (totals["failed"], totals["deferred"]) == ({}, ["C", "D"])


def test_check_fails_naming_every_failed_symbol_of_every_chunk_with_its_reason():
    summaries = [
        chunk(failed={"BAD1": "InvalidCall: rejected"}),
        chunk(failed={"BAD2": "ServerError: 503 after 4 retries"}, deferred=["X"]),
    ]

    with pytest.raises(AirflowFailException) as failure:
        tasks.check(summaries)

    assert str(failure.value) == (
        "2 of 4 failed: BAD1 (InvalidCall: rejected); BAD2 (ServerError: 503 after 4 retries)"
    )


def test_a_transient_database_fault_is_raised_as_is_so_airflow_retries_the_chunk():
    fault = TransientDatabaseError("connection reset")

    assert tasks._for_airflow(fault, Settings.load(_env_file=None)) is fault


def test_a_permanent_database_fault_fails_without_retries_and_without_the_password():
    settings = Settings.load(_env_file=None, POSTGRES_HOST="db", POSTGRES_PASSWORD=PASSWORD)
    fault = DatabaseError(f"password authentication failed (password={PASSWORD})")

    failure = tasks._for_airflow(fault, settings)

    assert isinstance(failure, AirflowFailException)
    assert str(failure).startswith("stockpipe database: password authentication failed")
    assert PASSWORD not in str(failure)


def test_a_bad_setting_fails_the_task_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv("API_DAILY_BUDGET", "lots")

    with pytest.raises(AirflowFailException, match="API_DAILY_BUDGET"):
        tasks.load_settings()


def test_a_password_that_is_a_word_is_given_to_airflows_masker_as_a_credential_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # Airflow's masker matches by value: `stockpipe` (the old compose default, also the user,
    # database and path name) registered whole made task logs read `/opt/***/airflow`.
    from airflow.sdk.log import _secrets_masker

    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv("POSTGRES_HOST", "postgres")
    monkeypatch.setenv("POSTGRES_PASSWORD", "stockpipe")
    monkeypatch.setenv("API_KEY", "AVKEY-tasks-5c1e")

    tasks.load_settings()

    masker = _secrets_masker()
    assert masker.redact("stockpipe.ingest: IBM: loaded") == "stockpipe.ingest: IBM: loaded"
    assert masker.redact("Airflow home /opt/stockpipe/airflow") == (
        "Airflow home /opt/stockpipe/airflow"
    )
    assert "stockpipe@" not in masker.redact("postgresql://stockpipe:stockpipe@postgres/x")
    assert masker.redact("password=stockpipe") == "***"
    assert masker.redact("key AVKEY-tasks-5c1e") == "key ***"
