"""The benchmark harness in its tiniest mode, so it cannot rot unnoticed. Shape only: timings
belong to `make bench`, never to a test."""

from __future__ import annotations

from benchmarks.e2e import BENCHMARKS, run_all
from benchmarks.e2e.harness import SCALES
from benchmarks.e2e.report import BEGIN, END, markdown, write_section


def test_every_benchmark_runs_at_tiny_scale_and_reports_a_verdict(pg_server, tmp_path):
    session = run_all(SCALES["tiny"], admin_conninfo=pg_server)

    assert set(session.seconds) == set(BENCHMARKS)
    by_benchmark = {}
    for figure in session.figures:
        by_benchmark.setdefault(figure.benchmark, []).append(figure)
    assert sorted(by_benchmark, key=lambda name: int(name.split()[0])) == [
        "1 bulk load",
        "2 through Dagster",
        "3 rate limit",
        "4 economy",
        "5 memory",
        "6 parse",
        "7 intraday load",
        "8 backfill",
        "9 throughput",
        "10 universe",
    ]
    for figure in session.figures:
        assert figure.value and figure.baseline and figure.target
        assert figure.verdict in ("pass", "MISS", "-")
        assert figure.ratio is None or figure.ratio > 0
    # Correctness, not speed: these hold at any size.
    economy = {f.measure: f for f in by_benchmark["4 economy"]}
    assert economy["calls of a re-run right after a complete run"].value == "0"
    assert economy["calls per symbol after one new session"].value == "1.00"
    assert economy["rows written per symbol after one new session"].value == "1.00"
    assert [f.value for f in by_benchmark["3 rate limit"] if "replies" in f.measure] == ["0", "0"]
    assert [f.passed for f in by_benchmark["8 backfill"]] == [True, True, True]
    # The full-history pass stores every bar of every symbol, each fetched with one `full`.
    throughput = {f.measure: f for f in by_benchmark["9 throughput"]}
    assert throughput["full history: rows stored"].passed is True
    assert any(m.startswith("full history: 3 symbols x 120 bars") for m in throughput)

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Upsert (storage layer)\n\nkept\n")
    write_section(docs, markdown(session, "python -m benchmarks --tiny", "0 / 0 / 0", "abc1234"))
    write_section(docs, markdown(session, "python -m benchmarks --tiny", "0 / 0 / 0", "abc1234"))
    text = docs.read_text()
    assert "## Upsert (storage layer)\n\nkept" in text
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert "| 5 memory |" in text


def test_the_database_at_scale_benchmark_runs_tiny(pg_server):
    """benchmarks/scale.py at a few symbols: every figure is there, the gap read through the
    marks answered what full reads answer (it asserts so itself), and the upgrade under two
    writers failed none of their writes."""
    from benchmarks import scale

    args = scale.parse_args(
        ["--symbols", "12", "--sessions", "40", "--intraday-symbols", "2",
         "--intraday-sessions", "2", "--upsert-symbols", "1", "--upsert-sessions", "30",
         "--no-write"]
    )  # fmt: skip
    report = scale.Report()
    scale.run(pg_server, args, report)

    figures = dict(report.lines)
    assert " rows, " in figures["stock_data: rows, table (heap + TOAST), all indexes"]
    for name in ("stock_data", "stock_data_intraday"):
        blocked = figures[f"longest single-bar write into {name} during the upgrade"]
        assert "failed" not in blocked
    assert "upgrade 0018, 0019, 0020 (whole migrate call)" in figures
    assert sum("upsert into" in what for what in figures) == 4
    assert sum(what.startswith("check ") for what in figures) == 7
    text = scale.markdown(report, [], args, "0 / 0 / 0")
    assert text.startswith(scale.BEGIN) and text.rstrip().endswith(scale.END)
