"""Run one of stockpipe's Dagster jobs once, in process, as a schedule launches it (every
partition of a partitioned job): `python job_process.py <job name>`.

Not a test module: test_budget_order.py starts several of these at once, as the daemon does
with the missed ticks of several schedules after downtime.
"""

import sys

import dagster as dg

from stockpipe.defs import build_definitions
from stockpipe.defs.schedules import full_range_tags
from stockpipe.settings import Settings

job = build_definitions(Settings.load()).resolve_job_def(sys.argv[1])
tags = full_range_tags(job.partitions_def) if job.partitions_def is not None else None  # type: ignore[arg-type]
result = job.execute_in_process(
    instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False
)
print(f"{sys.argv[1]} success:", result.success, flush=True)
