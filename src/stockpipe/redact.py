"""Keep secrets (API key, database password) out of logs, exceptions and printed URLs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_REDACTED = "***"
# apikey=... in a query string, in any case, up to the next separator.
_APIKEY_PARAM = re.compile(r"(?i)(apikey=)[^&\s'\"]+")
# user:password@ in a URL authority.
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(@)")
# password=... in a libpq keyword/value string.
_KV_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('[^']*'|[^\s]+)")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return `text` with every known secret and every secret-shaped fragment masked."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, _REDACTED)
    text = _APIKEY_PARAM.sub(rf"\g<1>{_REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\g<1>{_REDACTED}\g<2>", text)
    return _KV_PASSWORD.sub(rf"\g<1>{_REDACTED}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record passing through a handler."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
