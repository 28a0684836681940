"""End-to-end benchmarks (issue 6): each figure against a baseline measured in the same run.

`run_all(scale, names)` runs the chosen ones in one session (one database server, one fake
Alpha Vantage process) and returns their figures; `python -m benchmarks` prints and records them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.e2e import (
    backfill,
    bulk_load,
    economy,
    intraday_load,
    memory,
    parse,
    rate_limit,
    through_dagster,
    throughput,
    universe_scale,
)
from benchmarks.e2e.harness import Bench, Figure, Scale

log = logging.getLogger(__name__)

BENCHMARKS: dict[str, Callable[[Bench], list[Figure]]] = {
    "bulk": bulk_load.run,
    "dagster": through_dagster.run,
    "rate": rate_limit.run,
    "economy": economy.run,
    "memory": memory.run,
    "parse": parse.run,
    "intraday": intraday_load.run,
    "backfill": backfill.run,
    "throughput": throughput.run,
    "universe": universe_scale.run,
}


@dataclass
class Session:
    scale: Scale
    database: str
    figures: list[Figure] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def run_all(
    scale: Scale,
    names: Sequence[str] = tuple(BENCHMARKS),
    *,
    admin_conninfo: str | None = None,
    on_figure: Callable[[Figure], None] | None = None,
) -> Session:
    with Bench(scale, admin_conninfo=admin_conninfo) as bench:
        session = Session(scale, bench.database_label)
        for name in names:
            started = time.perf_counter()
            for figure in BENCHMARKS[name](bench):
                session.figures.append(figure)
                if on_figure is not None:
                    on_figure(figure)
            session.seconds[name] = time.perf_counter() - started
            log.info("benchmark %s took %.1f s", name, session.seconds[name])
    return session
