"""Read one HTTP reply within a deadline and a size cap, and describe network failures briefly.

`requests` bounds only the silence between two reads: a proxy or server that trickles a byte
now and then keeps a call open forever. `read_body` reads the streamed body one socket read
at a time, shrinking the socket timeout to what is left of the call's deadline, so a reply
either completes in time or is cut off.

`describe_failure` turns an exception of `requests`/`urllib3` into the gist of its innermost
cause ("Failed to resolve 'www.alphavantage.co' (...)", "[Errno 111] Connection refused"),
without the connection-pool class names and the URL (with its key) that wrap it, and tells
whether the request provably never left this machine (name resolution, connect, TLS
handshake): such a call cannot have counted against the API's quota.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterable

import requests
import urllib3.exceptions as u3
from urllib3.response import BaseHTTPResponse

from stockpipe.redact import redact

MAX_DETAIL_CHARS = 240
_CHUNK = 64 * 1024
# "HTTPSConnection(host='x', port=443): " (urllib3 2.x) or "<urllib3.connection.HTTPConnection
# object at 0x7f..>: " (older): the object that failed, not why.
_OBJECT_PREFIX = re.compile(r"^(?:<[^>]*>|\w+\(host=[^)]*\)):\s*")
_POOL_PREFIX = re.compile(r"^\w+ConnectionPool\(host=[^)]*\):\s*")
# Failures before the request could be sent: the API never saw the call.
_BEFORE_SENDING = (
    u3.NewConnectionError,
    u3.ConnectTimeoutError,
    u3.SSLError,
    u3.NameResolutionError,
)


class DeadlineExceeded(Exception):
    """The reply did not complete before the call's deadline (bytes received so far)."""

    def __init__(self, received: int) -> None:
        super().__init__(f"{received} bytes received")
        self.received = received


class TooLarge(Exception):
    """The reply is bigger than allowed (declared by Content-Length, or counted)."""

    def __init__(self, size: int, declared: bool) -> None:
        super().__init__(f"{size} bytes")
        self.size = size
        self.declared = declared


def read_body(response: requests.Response, deadline: float, max_bytes: int) -> bytes:
    """The whole (decoded) body of a streamed response, or DeadlineExceeded / TooLarge.

    `deadline` is a time.monotonic() value. Errors of the transfer itself (reset, incomplete
    body) come out as urllib3 exceptions, for describe_failure."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(int(declared), declared=True)
    raw = response.raw
    sock = _socket_of(raw)
    original_timeout = sock.gettimeout() if sock is not None else None
    chunks: list[bytes] = []
    received = 0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(received)
            if sock is not None:
                sock.settimeout(remaining)
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)  # one socket read, not "amt bytes"
            except u3.ReadTimeoutError:
                if time.monotonic() >= deadline:
                    raise DeadlineExceeded(received) from None
                raise
            if not chunk:  # read1 answers b"" only at the end of the body
                return b"".join(chunks)
            received += len(chunk)
            if received > max_bytes:
                raise TooLarge(received, declared=False)
            chunks.append(chunk)
    finally:
        if sock is not None and original_timeout is not None:
            with contextlib.suppress(OSError):  # closed meanwhile: nothing to restore
                sock.settimeout(original_timeout)


def _socket_of(raw: BaseHTTPResponse) -> socket.socket | None:
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def never_sent(exc: BaseException) -> bool:
    """True when the request provably never reached the server (DNS, connect, TLS handshake)."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    for cause in _chain(exc):
        if isinstance(cause, _BEFORE_SENDING):
            return True
        if isinstance(cause, u3.ProtocolError | u3.ReadTimeoutError):
            return False
    return False


def describe_failure(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The innermost cause's gist, redacted, one line, cut at a word boundary if long."""
    gist = ""
    for cause in _chain(exc):
        if isinstance(cause, u3.MaxRetryError):
            continue  # "Max retries exceeded with url: ..." names the URL, not the cause
        text = _POOL_PREFIX.sub("", _OBJECT_PREFIX.sub("", str(cause).strip()))
        if text:
            gist = text
        if isinstance(cause, (*_BEFORE_SENDING, u3.ReadTimeoutError, u3.ProtocolError)):
            break  # urllib3's wording already carries the OS error in plain words
    gist = redact(" ".join((gist or type(exc).__name__).split()), list(secrets))
    return shorten(gist, MAX_DETAIL_CHARS)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:(") + "…"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc`, then what it wraps, outermost first: requests' args[0], urllib3's `reason`,
    then __cause__ / __context__."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        nxt: BaseException | None = None
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            nxt = reason
        elif current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        else:
            nxt = current.__cause__ or current.__context__
        current = nxt
    return seen
