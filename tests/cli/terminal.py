"""Run a command the way a user sees it: in a pseudo-terminal, so rich draws its progress bar."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

STOCKPIPE = str(Path(sys.executable).parent / "stockpipe")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_terminal(args: list[str], *, timeout: float = 300) -> tuple[int, str]:
    """Exit code and everything the terminal received, escape codes removed and each carriage
    return made a line break (what a redraw of the bar leaves behind)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "LINES": "50", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [STOCKPIPE, *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    received = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal (Linux: EIO)
                    break
                if not chunk:
                    break
                received += chunk
            elif process.poll() is not None:
                break
        code = process.wait(timeout=timeout)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    text = _ANSI.sub("", received.decode(errors="replace"))
    return code, text.replace("\r\n", "\n").replace("\r", "\n")
