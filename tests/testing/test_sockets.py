"""The silent server: the TCP handshake completes, then nothing is ever said."""

from __future__ import annotations

import socket

import pytest

from stockpipe.testing import SilentServer


def test_a_connection_is_accepted_and_never_answered() -> None:
    with SilentServer() as silent, socket.create_connection(("127.0.0.1", silent.port)) as conn:
        conn.sendall(b"hello?")
        conn.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.recv(1)
        assert silent.accepted == 1
