"""Keep secrets (API key, database password) out of logs, exceptions and printed URLs.

A secret is masked where it stands as a credential, whatever it is: `apikey=` in a query,
the password of a URL (`postgresql://user:***@host`), `password=` / `password:` in a
connection string or a mapping. Anywhere else it is masked by value only when it cannot be a
word of an ordinary line: the default compose password was `stockpipe`, the user's, the
database's and the project's name, and masking it everywhere turned every line into
`***.ingest: IBM: loaded` and `/opt/***/airflow`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_REDACTED = "***"
# Masked wherever it appears: a secret this long is no word of a log line...
_ANYWHERE_LENGTH = 20
# ...nor one this long that mixes letters and digits or holds another symbol: a word, a name
# (letters with . - _) or a number or date (digits with them) could be an ordinary word.
_ANYWHERE_UNLESS_WORD_LENGTH = 6
_SEPARATORS = frozenset("._-")
# apikey=... in a query string, in any case, up to the next separator.
_APIKEY_PARAM = re.compile(r"(?i)(apikey=)[^&\s'\"]+")
# user:password@ (or :password@) in a URL authority.
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(@)")
# password=... in a libpq keyword/value string or an environment line (PGPASSWORD=...), and
# 'password': '...' in a printed mapping.
_KV_PASSWORD = re.compile(
    r"""(?i)(password['"]?\s*(?:=|:(?!//))\s*)('[^']*'|"[^"]*"|[^\s,;&)}\]]+)"""
)


def masked_anywhere(secret: str) -> bool:
    """True when `secret` can be masked wherever it appears without masking ordinary words."""
    if len(secret) >= _ANYWHERE_LENGTH:
        return True
    word = all(char.isalpha() or char in _SEPARATORS for char in secret)
    number = all(char.isdigit() or char in _SEPARATORS for char in secret)
    return len(secret) >= _ANYWHERE_UNLESS_WORD_LENGTH and not (word or number)


def credential_forms(secret: str) -> tuple[str, ...]:
    """How `secret` looks where it stands as a credential (for maskers that match by value)."""
    return (f":{secret}@", f"password={secret}", f"apikey={secret}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return `text` with every secret in a credential's place, and every secret that cannot be
    a word anywhere, masked."""
    # Longest first: a URL holding the password is masked whole, not around a masked password.
    for secret in sorted({s for s in secrets if s and masked_anywhere(s)}, key=len, reverse=True):
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
