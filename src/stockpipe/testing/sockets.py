"""A TCP server that accepts connections and never says a word: a hung database or API.

    with SilentServer() as silent:
        ... connect to 127.0.0.1:silent.port ...
        assert silent.accepted == 2

Connections stay open (nothing is read or written) until the server stops, so a client sees
exactly what a frozen PostgreSQL or a stuck proxy shows: a completed TCP handshake, then
silence.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class SilentServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return len(self._held)

    def start(self) -> SilentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:
            for conn in self._held:
                with contextlib.suppress(OSError):
                    conn.close()
        self._listener.close()

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._held.append(conn)
