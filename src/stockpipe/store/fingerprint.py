"""The row fingerprint of `stock_data`, computed in Python exactly as PostgreSQL computes it.

Migration 0005 adds `fingerprint`, a column GENERATED from the stored values, so it can never go
stale: a manual UPDATE, an older release's writes, rows loaded before the migration all carry
the fingerprint of what is really stored. The upsert computes the same value for each incoming
bar and skips, without sending it, every bar whose fingerprint equals the stored one.

Both sides hash one canonical text: each value as PostgreSQL prints it (numeric_out, int8out,
jsonb_out), NULL as '', joined by '|', `raw` last. No numeric or integer text contains '|' or
is empty, so the text determines the values (and raw takes the unambiguous rest): equal
fingerprints mean equal values unless md5's first 64 bits collide. That can only matter between
the stored and the incoming version of one (symbol, day), a 2**-64 chance per changed bar.

Whenever Python cannot be sure to reproduce PostgreSQL's text (a non-finite decimal, a raw that
is not valid JSON or holds a lone surrogate) `bar_fingerprint` returns None and the bar takes
the ordinary merge path, which compares the values themselves (IS DISTINCT FROM): a fingerprint
that differs from the stored one only costs speed. A test checks Python's value against the
stored column on random decimals and JSON.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from stockpipe.bars import Bar

# jsonb_out escapes exactly these (escape_json in PostgreSQL's json.c); everything else,
# non-ASCII included, is printed as is.
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_JSON_ESCAPES["\t"] = "\\t"
_PLAIN_NUMBERS = re.compile(r"[0-9.|]*")
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


class _NotReproducible(Exception):
    """The value's PostgreSQL text cannot be predicted with certainty here."""


def bar_fingerprint(bar: Bar) -> int | None:
    """The `fingerprint` PostgreSQL would store for `bar`, or None if it cannot be predicted."""
    numbers = (
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume,
        bar.adjusted_close,
        bar.dividend_amount,
        bar.split_coefficient,
    )
    try:
        # str() of a Decimal is numeric_out's text unless it has an exponent, a sign or is not
        # finite (the regex rejects those); "None" can only come from a NULL, printed as ''.
        head = "|".join(map(str, numbers)).replace("None", "")
        if _PLAIN_NUMBERS.fullmatch(head) is None:
            head = "|".join(str(n) if isinstance(n, int) else numeric_text(n) for n in numbers)
        text = head + "|" + jsonb_text(bar.raw)
        # md5: the hash PostgreSQL offers in an immutable expression; not used for security.
        digest = hashlib.md5(text.encode()).digest()  # noqa: S324
    except (_NotReproducible, UnicodeEncodeError):
        return None
    return int.from_bytes(digest[:8], "big", signed=True)


def numeric_text(value: Decimal | None) -> str:
    """numeric_out of `value`: plain digits, the scale kept, no exponent, no negative zero."""
    if value is None:
        return ""
    text = str(value)  # fast, and already numeric_out's text unless one of these holds:
    if "E" in text or not value.is_finite() or (text[0] == "-" and not value):
        if not value.is_finite():
            raise _NotReproducible
        text = format(abs(value) if value.is_zero() else value, "f")
    return text


def jsonb_text(raw: bytes) -> str:
    """jsonb_out of `raw`: keys sorted by length then bytes, the last duplicate kept."""
    try:
        value = orjson.loads(raw)
        if type(value) is dict and len(value) > 1 and b"\\" not in raw:
            # The shape of every Alpha Vantage bar: one flat object of strings. Without a
            # backslash in the JSON no string can hold a character jsonb_out escapes (JSON
            # forbids them unescaped), so each string prints as is.
            printer = _flat_object_printers.get(keys := tuple(value))
            if printer is None:
                printer = _flat_object_printers[keys] = _flat_object_printer(keys)
            values = printer[0](value)
            try:
                "".join(values)  # raises TypeError unless every value is a string
            except TypeError:
                return _jsonb(value)
            return printer[1] % values
        return _jsonb(value)
    except _FloatSeen:
        # orjson reads numbers with a fraction or exponent as floats, losing digits that the
        # numeric inside jsonb keeps: re-read them exactly.
        pass
    except orjson.JSONDecodeError:
        pass  # e.g. an integer beyond 64 bits: the standard library reads it exactly
    try:
        # Strict UTF-8 first: json.loads would also guess UTF-16/32, which PostgreSQL refuses.
        text = raw.decode()
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _NotReproducible from exc
    return _jsonb(value)


class _FloatSeen(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotReproducible(name)  # NaN / Infinity: not JSON, jsonb refuses them


_ValuesGetter = Callable[[dict[str, Any]], tuple[Any, ...]]
# Key tuple -> printer. Bars from one source share one key tuple; bounded against odd input.
_flat_object_printers: dict[tuple[str, ...], tuple[_ValuesGetter, str]] = {}
_MAX_PRINTERS = 256


def _flat_object_printer(
    keys: tuple[str, ...],
) -> tuple[_ValuesGetter, str]:
    """For objects with these keys: a getter of the values in jsonb order, and a %-template."""
    if len(_flat_object_printers) >= _MAX_PRINTERS:
        _flat_object_printers.clear()
    ordered = sorted(keys, key=_jsonb_key)
    fields = ", ".join(f'"{k.replace("%", "%%")}": "%s"' for k in ordered)
    return operator.itemgetter(*ordered), "{" + fields + "}"


def _jsonb_key(key: str) -> tuple[int, str]:
    # Shorter keys first, then bytewise: comparing code points orders UTF-8 bytes the same way.
    return (len(key.encode()), key)


def _jsonb(value: Any) -> str:
    if isinstance(value, str):
        return _jsonb_string(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = sorted(value, key=_jsonb_key)
        return "{" + ", ".join(f"{_jsonb_string(k)}: {_jsonb(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb(item) for item in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return numeric_text(value)
    if isinstance(value, float):
        raise _FloatSeen
    raise _NotReproducible


def _jsonb_string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return '"' + text + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _JSON_ESCAPES.get(char) or f"\\u{ord(char):04x}"
