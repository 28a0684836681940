"""Run Dagster's stock_job once, in process, over every STOCK_SYMBOLS symbol.

Not a test module: test_shared_budget.py runs it with the main .venv's Python (where Dagster
lives) as the Dagster deployment sharing a key with Airflow.
"""

import dagster as dg

from stockpipe.defs import build_definitions
from stockpipe.defs.schedules import full_range_tags
from stockpipe.settings import Settings

job = build_definitions(Settings.load()).resolve_job_def("stock_job")
assert job.partitions_def is not None
result = job.execute_in_process(
    instance=dg.DagsterInstance.ephemeral(),
    tags=full_range_tags(job.partitions_def),  # type: ignore[arg-type]
    raise_on_error=False,
)
print("dagster stock_job success:", result.success)
