"""The results table: printed with rich, and recorded in docs/benchmarks.md between markers
(the rest of that file, such as the storage layer's section, is left as it is)."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.e2e import Session
from benchmarks.e2e.harness import Figure, load_average, machine

BEGIN = "<!-- e2e:begin (written by `python -m benchmarks`; edits inside are overwritten) -->"
END = "<!-- e2e:end -->"
HEADER = "# Benchmarks\n"
COLUMNS = ("benchmark", "measure", "value", "baseline (same run)", "ratio", "target", "verdict")


def _cells(figure: Figure) -> tuple[str, ...]:
    ratio = "" if figure.ratio is None else f"{figure.ratio:.2f}x"
    return (
        figure.benchmark,
        figure.measure,
        figure.value,
        figure.baseline,
        ratio,
        figure.target,
        figure.verdict,
    )


def print_table(figures: Sequence[Figure], console: Console | None = None) -> None:
    table = Table(title="stockpipe end-to-end benchmarks")
    for column in COLUMNS:
        table.add_column(column)
    for figure in figures:
        table.add_row(*_cells(figure))
    (console or Console(width=180)).print(table)


def commit() -> str:
    """The checked-out commit, and whether the tree had uncommitted changes."""
    repo = Path(__file__).resolve().parents[2]

    def run(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = run("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" + uncommitted changes" if run("status", "--porcelain", "--", "src") else "")


def markdown(session: Session, command: str, load_before: str, code: str) -> str:
    scale = session.scale
    lines = [
        BEGIN,
        "## End to end (fetch + parse + upsert, orchestration, quota)",
        "",
        f"- command: `{command}` (scale `{scale.name}`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- code: {code} when the run started",
        f"- machine: {machine()}, {platform.python_implementation()} {platform.python_version()}",
        f"- load average (1/5/15 min) before: {load_before}; after: {load_average()}",
        f"- PostgreSQL: {session.database} (fresh database per measurement); fake Alpha"
        " Vantage as its own process on 127.0.0.1",
        "- seconds per benchmark: "
        + ", ".join(f"{name} {sec:.0f}" for name, sec in session.seconds.items()),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(figure)) + " |" for figure in session.figures]
    lines += [END, ""]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace the generated section of `path` (or append it), keep everything else."""
    text = path.read_text() if path.exists() else HEADER
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
