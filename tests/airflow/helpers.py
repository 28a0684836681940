"""Running stock_dag the way Airflow loads it, and reading what it stored."""

from __future__ import annotations

from typing import Any

from stockpipe.airflow import DAGS_FOLDER
from stockpipe.store import Database


def load_dag_bag() -> Any:
    """The DAGs folder parsed as the DAG processor parses it (settings read from the env)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def run_stock_dag() -> Any:
    """One run of stock_dag through dag.test(): every task in this process, real metadata DB."""
    bag = load_dag_bag()
    assert bag.import_errors == {}
    return bag.dags["stock_dag"].test()


def task_states(run: Any) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}


def task_result(run: Any, task_id: str, map_index: int = -1) -> Any:
    """What a task returned (its XCom)."""
    [ti] = [t for t in run.get_task_instances() if (t.task_id, t.map_index) == (task_id, map_index)]
    return ti.xcom_pull(task_ids=task_id, map_indexes=map_index)


def ledger_calls(db: Database) -> int:
    """Calls recorded in the PostgreSQL quota ledger every stockpipe process shares."""
    return int(
        db.run(lambda conn: conn.execute("SELECT count(*) FROM api_call_ledger").fetchone()[0])
    )
