"""The HTTP side of the fake Alpha Vantage server (stdlib only)."""

from __future__ import annotations

import logging
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

log = logging.getLogger(__name__)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float | None = None
    action: str = "send"  # or "connection_reset" / "connection_drop"
    wake: threading.Event | None = None  # set on reset/stop: cut a pending delay short


class Answering(Protocol):
    def answer(self, query: str) -> Reply: ...

    def control(self, method: str, name: str, payload: dict[str, Any]) -> Reply: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real service
    server: _Server

    def setup(self) -> None:
        super().setup()
        # No Nagle: a small write waiting for the client's (delayed, ~40 ms) ACK would stall
        # every reply on a kept-alive connection. Replies also leave in one write (_send).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith("/_control/"):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError:
                payload = None
            if not isinstance(payload, dict):
                self._send(Reply(400, b'{"error": "body must be a JSON object"}'))
                return
            name = parts.path.removeprefix("/_control/")
            self._send(self.server.fake.control(method, name, payload))
            return
        if method != "GET" or parts.path.rstrip("/") not in ("/query", ""):
            self._send(Reply(404, b'{"error": "not found"}'))
            return
        reply = self.server.fake.answer(parts.query)
        if reply.action == "trickle":
            self._trickle(reply)
            return
        if reply.delay and reply.wake is not None:
            reply.wake.wait(reply.delay)
        if reply.action == "connection_reset":
            # SO_LINGER 0 turns close() into a TCP RST: the client sees "connection reset".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if reply.action == "connection_drop":
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            # end_headers() would write the head alone; head and body go out in one write.
            buffered: list[bytes] = getattr(self, "_headers_buffer", [])
            head = b"".join(buffered) + b"\r\n"
            buffered.clear()
            self.wfile.write(head + reply.body)
        except OSError:
            # The client gave up (timeout test): nothing to answer to.
            self.close_connection = True

    def _trickle(self, reply: Reply) -> None:
        """Headers now, then one body byte every `reply.delay` seconds until the body is out or
        the server is reset or stopped."""
        self.close_connection = True
        gap = reply.delay or 0.05
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.flush()
            for offset in range(len(reply.body)):
                if reply.wake is not None and reply.wake.wait(gap):
                    return
                self.wfile.write(reply.body[offset : offset + 1])
                self.wfile.flush()
        except OSError:
            return  # the client gave up: what the trickle is there to provoke

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry apikey=...; the fake logs nothing of them.
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: Answering) -> None:
        super().__init__(address, _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("fake Alpha Vantage: connection error from %s", client_address)


def serve(host: str, port: int, fake: Answering) -> tuple[_Server, threading.Thread]:
    server = _Server((host, port), fake)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread
