"""`make bench` / `python -m benchmarks`: the storage layer's upsert benchmark, then the
end-to-end ones; the end-to-end table is printed and written into docs/benchmarks.md.

    python -m benchmarks                      # everything at the issue's sizes (~10 min)
    python -m benchmarks --quick              # smaller sizes, for development
    python -m benchmarks --only bulk,parse    # pick benchmarks (upsert, scale, bulk, dagster,
    python -m benchmarks --skip upsert        #   rate, economy, memory, parse, intraday, backfill,
                                              #   throughput, universe)
    python -m benchmarks.scale --full         # the database at 25M + 25M rows (issue 19)
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import shlex
import sys
from pathlib import Path

from benchmarks.e2e import BENCHMARKS, run_all
from benchmarks.e2e.harness import SCALES, load_average
from benchmarks.e2e.report import commit, markdown, print_table, write_section
from stockpipe import processes

REPO = Path(__file__).resolve().parents[1]
ALL = ("upsert", "scale", *BENCHMARKS)
UPSERT_ARGS = {"full": [], "quick": ["--symbols", "20", "--days", "1000"], "tiny": None}
# The database at scale (benchmarks/scale.py): ~1M rows a table routinely; the issue's
# 25M + 25M with `python -m benchmarks.scale --full` (about an hour on 2 cores).
SCALE_ARGS = {"full": [], "quick": ["--symbols", "100", "--intraday-symbols", "20"], "tiny": None}


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown benchmark(s) {unknown}; known: {ALL}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes (development)")
    size.add_argument("--tiny", action="store_true", help="a few symbols and bars (smoke test)")
    parser.add_argument("--only", type=_names, default=list(ALL), help="comma-separated")
    parser.add_argument("--skip", type=_names, default=[], help="comma-separated")
    parser.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("benchmarks").setLevel(logging.INFO)
    scale = SCALES["tiny" if args.tiny else "quick" if args.quick else "full"]
    chosen = [name for name in args.only if name not in args.skip]
    load_before = load_average()
    status = 0

    upsert_args = UPSERT_ARGS[scale.name]
    has_upsert = importlib.util.find_spec("benchmarks.upsert") is not None
    if "upsert" in chosen and upsert_args is not None and has_upsert:
        print("== upsert (storage layer): python -m benchmarks.upsert", *upsert_args, flush=True)
        command = [sys.executable, "-m", "benchmarks.upsert", *upsert_args]
        if processes.run(command, cwd=REPO, timeout=None).returncode != 0:
            print("upsert benchmark failed; going on with the end-to-end ones", file=sys.stderr)
            status = 1

    scale_args = SCALE_ARGS[scale.name]
    if "scale" in chosen and scale_args is not None:
        print("== database at scale: python -m benchmarks.scale", *scale_args, flush=True)
        command = [sys.executable, "-m", "benchmarks.scale", *scale_args]
        if args.no_write:
            command.append("--no-write")
        if processes.run(command, cwd=REPO, timeout=None).returncode != 0:
            print("scale benchmark failed; going on with the end-to-end ones", file=sys.stderr)
            status = 1

    e2e = [name for name in chosen if name in BENCHMARKS]
    if not e2e:
        return status
    print(f"== end to end ({scale.name}): {', '.join(e2e)}", flush=True)
    code = commit()
    session = run_all(scale, e2e, on_figure=lambda f: print(f"   {f.measure}: {f.value}"))
    print_table(session.figures)
    if not args.no_write:
        command = "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:])
        write_section(args.docs, markdown(session, command.strip(), load_before, code))
        print(f"written to {args.docs}")
    return status


if __name__ == "__main__":
    sys.exit(main())
