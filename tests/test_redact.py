"""redact(): secrets and secret-shaped fragments never survive."""

from __future__ import annotations

import logging

import pytest

from stockpipe.redact import RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /query?function=X&apikey=ABC123&symbol=IBM",
            "GET /query?function=X&apikey=***&symbol=IBM",
        ),
        ("postgresql://user:hunter2@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("host=h user=u password=hunter2 dbname=d", "host=h user=u password=*** dbname=d"),
        ("key MYKEY leaked", "key *** leaked"),
    ],
    ids=["apikey in a query", "password in a URL", "password in a conninfo", "a known secret"],
)
def test_redact_masks_secrets(text: str, expected: str) -> None:
    assert redact(text, ["MYKEY"]) == expected


def test_the_logging_filter_masks_formatted_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactingFilter(["TOPSECRET"]))
    with caplog.at_level(logging.INFO):
        logger.info("calling %s", "https://x/query?apikey=TOPSECRET")
    assert "TOPSECRET" not in caplog.text
    assert "apikey=***" in caplog.text
