"""What Settings tells the user beyond pass/fail: a bad value in one line, a misspelt name, a
ticker lost between two commas.

Warnings go to the `stockpipe.settings` logger once per process (Settings is loaded several
times per command and once per Dagster resource); before logging is configured, to stderr.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

logger = logging.getLogger("stockpipe.settings")

# Variables the project reads outside Settings (docker compose, the Makefile, `airflow-up`):
# known names, never reported as misspelt.
DEPLOYMENT_VARIABLES = frozenset(
    {
        "STOCKPIPE_AIRFLOW_PORT",
        "STOCKPIPE_BIND",
        "STOCKPIPE_DB_PORT",
        "STOCKPIPE_ENV_FILE",
        "STOCKPIPE_UI_PORT",
    }
)
# An environment variable is only reported when it is this close to a known name: the
# environment holds other programs' variables (POSTGRES_INITDB_ARGS for the postgres image).
_ENVIRONMENT_CUTOFF = 0.85
# A suggestion for a name in .env: close enough to be the same word misspelt.
_SUGGEST_CUTOFF = 0.8
_SHOWN_VALUE_CHARS = 60
_warned: set[str] = set()


def warn_once(message: str) -> None:
    if message in _warned:
        return
    _warned.add(message)
    if logger.hasHandlers():
        logger.warning("%s", message)
    else:  # before logging is configured: say whose warning it is
        sys.stderr.write(f"stockpipe: warning: {message}\n")


def describe_errors(exc: ValidationError, secret_names: frozenset[str]) -> str:
    """One line: `invalid configuration: NAME='value': what is allowed` per bad variable,
    joined by '; '. A secret's value is never shown."""
    parts = []
    for error in exc.errors():
        message = _plain(str(error["msg"]))
        if not error["loc"]:  # a check across variables names them in its message
            parts.append(message)
            continue
        name = str(error["loc"][0]).upper()
        parts.append(f"{_named_value(name, error.get('input'), secret_names)}: {message}")
    return "invalid configuration: " + "; ".join(parts)


def _plain(message: str) -> str:
    # pydantic's own framing ("Value error, ", "Input should be ...") says nothing to a user.
    message = message.removeprefix("Value error, ")
    if message.startswith("Input should be"):
        message = "should be" + message.removeprefix("Input should be")
    return message


def _named_value(name: str, value: Any, secret_names: frozenset[str]) -> str:
    if name in secret_names or not isinstance(value, str | int | float):
        return name
    shown = str(value)
    if len(shown) > _SHOWN_VALUE_CHARS:
        shown = shown[:_SHOWN_VALUE_CHARS] + "..."
    return f"{name}={shown!r}"


def unknown_name_warnings(
    known: Iterable[str], env_file: Path | None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Names in `.env` (any with a project prefix) and in the environment (close to a known
    one) that no part of stockpipe reads: a typo that would silently keep the default."""
    names = sorted({*known, *DEPLOYMENT_VARIABLES})
    prefixes = tuple(sorted({name.split("_", 1)[0] + "_" for name in names}))
    environ = os.environ if environ is None else environ
    found = []
    for name in _env_file_names(env_file):
        if name.upper() not in names and name.upper().startswith(prefixes):
            found.append(_unknown(name, f"in {env_file}", names, cutoff=_SUGGEST_CUTOFF))
    for name in environ:
        if name.upper() in names or not name.upper().startswith(prefixes):
            continue
        if difflib.get_close_matches(name.upper(), names, n=1, cutoff=_ENVIRONMENT_CUTOFF):
            found.append(_unknown(name, "in the environment", names, cutoff=_ENVIRONMENT_CUTOFF))
    return found


def _unknown(name: str, where: str, names: list[str], *, cutoff: float) -> str:
    close = difflib.get_close_matches(name.upper(), names, n=1, cutoff=cutoff)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{name} {where} is not a stockpipe setting and is ignored{hint}"


def _env_file_names(env_file: Path | None) -> list[str]:
    if env_file is None or not env_file.is_file():
        return []
    from dotenv import dotenv_values

    return [name for name in dotenv_values(env_file) if name]
