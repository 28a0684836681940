"""Run one DAG once through dag.test(), in this process: `python dag_process.py <dag id>`.

Not a test module: test_budget_order.py starts several at once (each with its own copy of the
Airflow metadata database, SQLite allowing one writer), as Airflow runs the missed ticks of
every DAG together on its first start; stockpipe's database is the one they share.
"""

import sys

from airflow.dag_processing.dagbag import DagBag

from stockpipe.airflow import DAGS_FOLDER

bag = DagBag(dag_folder=str(DAGS_FOLDER))
assert bag.import_errors == {}, bag.import_errors
run = bag.dags[sys.argv[1]].test()
print(f"{sys.argv[1]} state:", run.state, flush=True)
