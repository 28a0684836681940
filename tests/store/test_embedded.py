"""The embedded server: one per data directory, shared by processes, data kept across stops."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stockpipe import processes
from stockpipe.settings import Settings
from stockpipe.store import Database, EmbeddedServer
from stockpipe.store.embedded import free_port

_START = """
import sys
from pathlib import Path
from stockpipe.store import EmbeddedServer
server = EmbeddedServer(pgdata=Path(sys.argv[1]), port=int(sys.argv[2])).start()
print((Path(sys.argv[1]) / "postmaster.pid").read_text().splitlines()[0], flush=True)
"""


def test_two_processes_starting_together_share_one_server(tmp_path: Path) -> None:
    pgdata, port = tmp_path / "pgdata", free_port()
    children = [
        processes.spawn(
            [sys.executable, "-c", _START, str(pgdata), str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    server = EmbeddedServer(pgdata=pgdata, port=port)
    try:
        outputs = [child.communicate(timeout=120)[0].strip() for child in children]
        assert [child.returncode for child in children] == [0, 0]
        assert outputs[0] == outputs[1] != ""
        assert server.is_running()
    finally:
        for child in children:
            processes.stop(child)
        server.stop()
    assert not server.is_running()


def test_settings_without_a_server_use_the_embedded_one_and_keep_its_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = Settings.load(STOCKPIPE_DATA_DIR=str(tmp_path), STOCKPIPE_EMBEDDED_PG_PORT=port)
    assert settings.uses_embedded_database
    caplog.set_level(logging.INFO, logger="stockpipe.store")
    server = EmbeddedServer(pgdata=tmp_path / "pgdata", port=port)
    try:
        with Database.from_settings(settings) as db:
            assert db.describe() == f"postgres://postgres@127.0.0.1:{port}/stockpipe"
            db.run(
                lambda conn: conn.execute("INSERT INTO stock_data (symbol, ts) VALUES ('X', now())")
            )
        assert f"psql -h 127.0.0.1 -p {port} -U postgres stockpipe" in caplog.text
        server.stop()
        assert not server.is_running()
        with Database.from_settings(settings) as db:
            count = db.run(lambda conn: conn.execute("SELECT count(*) FROM stock_data").fetchone())
            assert count == (1,)
    finally:
        server.stop()


def test_a_server_is_reached_on_its_tcp_port_by_plain_psycopg(
    embedded_pg_server: EmbeddedServer | None,
) -> None:
    if embedded_pg_server is None:
        pytest.skip("TEST_DATABASE_URL names an external server")
    conninfo = f"host=127.0.0.1 port={embedded_pg_server.port} user=postgres dbname=postgres"
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT current_setting('listen_addresses')").fetchone() == (
            "127.0.0.1",
        )
