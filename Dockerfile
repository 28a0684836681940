# One image for every Dagster role of stockpipe: code server, daemon and webserver differ only
# in their command (see docker-compose.yml). The default command serves the UI.
#
# No "# syntax=" line and no registry-only features (no --pull, no versioned site-packages
# paths): the image must also build where python:3.12-slim is a local stand-in built from
# Debian packages, as on machines without access to a registry.

# --- stage 1: the runtime dependency names, read from pyproject.toml ------------------------
# requirements.lock also pins the dev tools (pytest, ruff, mypy, playwright); the image only
# needs what `pip install stockpipe` would pull. Writing the names to a file in a separate
# stage means the install layer below is rebuilt only when that list or the lock changes,
# not on every pyproject.toml edit (tool settings live there too).
FROM python:3.12-slim AS runtime-deps
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; d = tomllib.load(open('/tmp/pyproject.toml', 'rb')); \
print('\n'.join(d['project']['dependencies']))" > /tmp/runtime-requirements.txt

# --- stage 2: the image --------------------------------------------------------------------
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/stockpipe/dagster_home \
    STOCKPIPE_DATA_DIR=/opt/stockpipe/data

# Dependencies first, pinned by the lock file: editing src/ never invalidates this layer.
COPY requirements.lock /tmp/requirements.lock
COPY --from=runtime-deps /tmp/runtime-requirements.txt /tmp/runtime-requirements.txt
RUN pip install -c /tmp/requirements.lock -r /tmp/runtime-requirements.txt \
    && rm /tmp/requirements.lock /tmp/runtime-requirements.txt

# A fixed uid so volume ownership is predictable; no login shell, no password.
RUN useradd --uid 10001 --user-group --home-dir /opt/stockpipe --shell /usr/sbin/nologin stockpipe \
    && mkdir -p "$DAGSTER_HOME/storage" "$STOCKPIPE_DATA_DIR" \
    && chown -R stockpipe:stockpipe "$DAGSTER_HOME" "$STOCKPIPE_DATA_DIR"

# The package itself (migrations ship inside it as package data); the build tree is dropped.
COPY pyproject.toml README.md /tmp/build/
COPY src /tmp/build/src
RUN pip install --no-deps /tmp/build && rm -rf /tmp/build

# The instance config is shared by every role; the compose workspace names the code server
# by its service name.
COPY deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
COPY deploy/compose-workspace.yaml "$DAGSTER_HOME/workspace.yaml"

USER stockpipe
WORKDIR /opt/stockpipe
EXPOSE 3000 4000

# Right for the default command (the webserver); compose overrides it for the other roles.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/server_info', timeout=4)"]

CMD ["dagster-webserver", "--host", "0.0.0.0", "--port", "3000", "--workspace", "/opt/stockpipe/dagster_home/workspace.yaml"]
