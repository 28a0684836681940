"""Every child the project starts can be stopped, whatever signals its parent ignores.

The suite started with SIGINT ignored (`make test &`, nohup, some CI runners), and Dagster
copies SIGINT's disposition onto SIGTERM in the process that imports it: a child started after
that inherited an ignored SIGTERM, `terminate()` did nothing and the fake server outlived the
suite. These tests put the parent in that state on purpose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from stockpipe import processes
from stockpipe.supervisor import Supervisor

FAKE = [sys.executable, "-m", "stockpipe.testing.fake_alphavantage", "--port", "0"]
# A child that ignores SIGTERM itself and leaves a grandchild in its group.
_STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
print(grandchild.pid, flush=True)
time.sleep(3600)
"""


@contextmanager
def started_as_nohup_and_dagster_leave_it() -> Iterator[None]:
    """SIGINT ignored, as a background job or nohup starts the suite; SIGTERM given SIGINT's
    disposition, as dagster._utils.interrupts.setup_interrupt_handlers does."""
    before = {s: signal.getsignal(s) for s in processes.DEFAULT_SIGNALS}
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGINT))
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def ignored(pid: int) -> set[signal.Signals]:
    """The signals a process ignores, from the SigIgn mask in /proc/<pid>/status."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(
        next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16
    )
    return {s for s in signal.Signals if mask & (1 << (s - 1))}


def dead(process: psutil.Process) -> bool:
    """Gone, or a zombie: a killed orphan waits for whoever adopted it to reap it, which an
    init that does not reap (pytest as a container's pid 1) never does."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def ends(process: psutil.Process, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not dead(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)  # polling interval of a bounded wait
    return True


def test_a_child_gets_default_sigint_and_sigterm_when_the_parent_ignores_them() -> None:
    with started_as_nohup_and_dagster_leave_it():
        assert {signal.SIGINT, signal.SIGTERM} <= ignored(os.getpid())
        child = processes.spawn(["sleep", "3600"])
    try:
        assert ignored(child.pid) & {signal.SIGINT, signal.SIGTERM} == set()
        assert os.getsid(child.pid) == child.pid  # its own session: stop() reaches its group
    finally:
        processes.stop(child)
    assert child.returncode == -signal.SIGTERM


def test_the_fake_server_stops_on_sigterm_when_the_suite_ignores_it() -> None:
    with started_as_nohup_and_dagster_leave_it():
        fake = processes.spawn(FAKE, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        assert fake.stdout.readline().startswith("ALPHAVANTAGE_BASE_URL=http://127.0.0.1:")
        assert signal.SIGTERM not in ignored(fake.pid)
        fake.terminate()
        # SIGTERM itself ends it: no SIGKILL needed.
        assert fake.wait(timeout=60) == -signal.SIGTERM
    finally:
        processes.stop(fake)
        if fake.stdout is not None:
            fake.stdout.close()


def test_a_child_spawned_from_another_thread_gets_the_defaults_too() -> None:
    children: list[subprocess.Popen[bytes]] = []
    with started_as_nohup_and_dagster_leave_it():
        thread = threading.Thread(
            target=lambda: children.append(processes.spawn(["sleep", "3600"]))
        )
        thread.start()
        thread.join(timeout=60)
    try:
        assert ignored(children[0].pid) & {signal.SIGINT, signal.SIGTERM} == set()
    finally:
        processes.stop(children[0])


def test_stop_kills_a_child_that_ignores_sigterm_and_its_group(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child = processes.spawn([sys.executable, "-c", _STUBBORN], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    grandchild = psutil.Process(int(child.stdout.readline()))
    child.stdout.close()
    # The grace only bounds how long SIGTERM is given: the child ignores it either way.
    processes.stop(child, grace=1, name="stubborn")
    assert child.returncode == -signal.SIGKILL
    assert ends(grandchild)
    assert f"stubborn (pid {child.pid}) did not stop within 1s: killing it" in caplog.text


def test_stop_clears_the_group_of_a_leader_that_already_exited() -> None:
    leader = processes.spawn(
        [sys.executable, "-c", "import subprocess, sys; p = subprocess.Popen(['sleep', '3600']);"
         " print(p.pid, flush=True)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert leader.stdout is not None
    orphan = psutil.Process(int(leader.stdout.readline()))
    leader.stdout.close()
    assert leader.wait(timeout=60) == 0
    assert not dead(orphan)
    processes.stop(leader)
    assert ends(orphan)


def test_the_supervisor_stops_children_started_while_sigterm_was_ignored() -> None:
    supervisor = Supervisor({"PATH": "/usr/bin:/bin"})
    with started_as_nohup_and_dagster_leave_it():
        child = supervisor.start("sleeper", ["sleep", "3600"])
    assert child.process is not None
    assert ignored(child.process.pid) & {signal.SIGINT, signal.SIGTERM} == set()
    supervisor.stop_all()
    assert child.process.returncode == -signal.SIGTERM


def test_run_returns_what_the_child_printed_and_its_exit_code() -> None:
    done = processes.run(
        [sys.executable, "-c", "import sys; print('out'); sys.exit(3)"],
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "")
    with pytest.raises(subprocess.CalledProcessError) as failed:
        processes.run([sys.executable, "-c", "raise SystemExit(3)"], timeout=60, check=True)
    assert failed.value.returncode == 3


def test_run_past_its_timeout_stops_the_child_and_its_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    # subprocess.run would kill the child alone and leave the grandchild sleeping.
    script = (
        "import pathlib, subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))\n"
        "time.sleep(3600)\n"
    )
    # The timeout is what the test is about; 20 s leaves the child ample time to start.
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run([sys.executable, "-c", script], timeout=20)
    grandchild = psutil.Process(int(pid_file.read_text()))
    assert ends(grandchild)
