"""redact(): secrets and secret-shaped fragments never survive."""

from __future__ import annotations

import logging

import pytest

from stockpipe.redact import RedactingFilter, masked_anywhere, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /query?function=X&apikey=ABC123&symbol=IBM",
            "GET /query?function=X&apikey=***&symbol=IBM",
        ),
        ("postgresql://user:hunter2@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("host=h user=u password=hunter2 dbname=d", "host=h user=u password=*** dbname=d"),
        ("key MYKEY-7a1c leaked", "key *** leaked"),
        ("PGPASSWORD=hunter2 psql", "PGPASSWORD=*** psql"),
        ("{'user': 'u', 'password': 'hunter2'}", "{'user': 'u', 'password': ***}"),
    ],
    ids=[
        "apikey in a query",
        "password in a URL",
        "password in a conninfo",
        "a known secret",
        "password in an environment line",
        "password in a printed mapping",
    ],
)
def test_redact_masks_secrets(text: str, expected: str) -> None:
    assert redact(text, ["MYKEY-7a1c"]) == expected


# The compose default once: also the user, the database and the project's name.
WORD = "stockpipe"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stockpipe.ingest: IBM: loaded", "stockpipe.ingest: IBM: loaded"),
        ("Airflow home /opt/stockpipe/airflow", "Airflow home /opt/stockpipe/airflow"),
        (
            "postgres://stockpipe:stockpipe@postgres:5432/stockpipe",
            "postgres://stockpipe:***@postgres:5432/stockpipe",
        ),
        (
            "host=postgres user=stockpipe password=stockpipe dbname=stockpipe",
            "host=postgres user=stockpipe password=*** dbname=stockpipe",
        ),
        ("POSTGRES_PASSWORD=stockpipe", "POSTGRES_PASSWORD=***"),
    ],
    ids=["logger name", "path", "URL", "conninfo", "environment line"],
)
def test_a_password_that_is_a_word_is_masked_as_a_credential_only(text: str, expected: str) -> None:
    assert redact(text, [WORD]) == expected


@pytest.mark.parametrize(
    ("secret", "anywhere"),
    [
        ("stockpipe", False),  # a word
        ("change-me", False),  # words and a separator
        ("stock_data", False),  # a name
        ("2026-12-05", False),  # a date
        ("hunter", False),  # a word
        ("pw12", False),  # too short to tell from a fragment of anything
        ("hunter2", True),  # letters and digits
        ("p@ssword", True),  # a symbol
        ("RIBXT3XYLI69PC0Q", True),  # an Alpha Vantage key
        ("correcthorsebatterystaple", True),  # long enough to be no word
    ],
)
def test_a_secret_is_masked_anywhere_only_when_it_cannot_be_a_word(
    secret: str, anywhere: bool
) -> None:
    assert masked_anywhere(secret) is anywhere
    assert (redact(f"a {secret} b", [secret]) == "a *** b") is anywhere


def test_the_longest_secret_is_masked_first() -> None:
    url = "postgresql://u:pw-91c2@h/db"
    assert redact(f"DATABASE_URL {url}", ["pw-91c2", url]) == "DATABASE_URL ***"


def test_the_logging_filter_masks_formatted_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactingFilter(["TOPSECRET"]))
    with caplog.at_level(logging.INFO):
        logger.info("calling %s", "https://x/query?apikey=TOPSECRET")
    assert "TOPSECRET" not in caplog.text
    assert "apikey=***" in caplog.text
