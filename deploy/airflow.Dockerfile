# stockpipe's Airflow flavour (compose profile `airflow`): Airflow 3 standalone with stock_dag,
# on the compose PostgreSQL. Its own image, never beside Dagster: Airflow's dependency tree
# comes from requirements-airflow.lock, and stockpipe goes in with --no-deps (no Dagster pins).
#
# Same rules as the main Dockerfile: no "# syntax=" line, no --pull, no versioned paths.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    AIRFLOW_HOME=/opt/stockpipe/airflow \
    STOCKPIPE_DATA_DIR=/opt/stockpipe/data

COPY requirements-airflow.lock /tmp/requirements-airflow.lock
RUN pip install -r /tmp/requirements-airflow.lock && rm /tmp/requirements-airflow.lock

RUN useradd --uid 10001 --user-group --home-dir /opt/stockpipe --shell /usr/sbin/nologin stockpipe \
    && mkdir -p "$AIRFLOW_HOME" "$STOCKPIPE_DATA_DIR" \
    && chown -R stockpipe:stockpipe /opt/stockpipe

# The DAGs folder ships inside the package (stockpipe/airflow/dags).
COPY pyproject.toml README.md /tmp/build/
COPY src /tmp/build/src
RUN pip install --no-deps /tmp/build && rm -rf /tmp/build

USER stockpipe
WORKDIR /opt/stockpipe
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=10 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/v2/monitor/health', timeout=4)"]

# Creates the database `airflow` beside stockpipe's, migrates it, creates the pool, then runs
# `airflow standalone` (API server and UI on 8080, scheduler, DAG processor, triggerer).
CMD ["python", "-m", "stockpipe.airflow.up"]
