#!/usr/bin/env bash
# The run-launcher variant end to end (needs a Docker engine; `make runlauncher-smoke`):
#   build the stockpipe image, bring up docker-compose.yml + docker-compose.runlauncher.yml
#   with the fake Alpha Vantage, launch a backfill of stock_data for 200 symbols through the
#   webserver's GraphQL API (past 100 symbols the partitions are the 64 shards, so all of them;
#   STOCK_SYMBOLS_PER_RUN=16: 4 runs), and check: every run SUCCESS in a container of its own,
#   the 4 ranges covering the 64 shards once, at least 2 runs at once, exactly 200 x 40 rows,
#   the fake's call log (200 calls, one per symbol, within
#   API_DAILY_BUDGET; neither the gate's ledger nor the fake's log ever over
#   API_CALLS_PER_MINUTE in any 60 s), no run container left,
#   no secret in any log or in Dagster's event log and run storage. Then, with the stack
#   restarted on 100 other symbols (per-symbol partitions) and a premium key's per-minute cap,
#   measures 2 run containers against 1 on a CPU-bound full-history load (5,000 bars per
#   symbol, prerendered by the fake) and prints rows/s of both (docs/benchmarks.md, "Run
#   containers"). Meanwhile
#   every run container is inspected while it runs: no healthcheck (the image's is the
#   webserver's), the secrets' names but never their values in its command and labels, and
#   each one gone after its run (`docker ps -a`).
# The GraphQL calls go through stockpipe.testing.webserver (the tests' client): the checks run
# with the project's venv, `make install` first (the make target does it).
# Its own compose project, image, network and free local ports: it never touches another
# stack. The image stays for the next build's cache (`docker image rm
# stockpipe-runlauncher-smoke:local` drops it).
set -euo pipefail
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME=${SMOKE_PROJECT:-stockpipe-rl-smoke}
export STOCKPIPE_IMAGE=${SMOKE_IMAGE:-stockpipe-runlauncher-smoke:local}
export STOCKPIPE_RUN_NETWORK=${SMOKE_NETWORK:-stockpipe-rl-smoke-runs}
export STOCKPIPE_DOCKER_GID=${STOCKPIPE_DOCKER_GID:-$(stat -c %g /var/run/docker.sock)}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export STOCKPIPE_BIND=127.0.0.1
export STOCKPIPE_UI_PORT=${STOCKPIPE_UI_PORT:-$(free_port)}
export STOCKPIPE_DB_PORT=${STOCKPIPE_DB_PORT:-$(free_port)}
WAIT=${SMOKE_WAIT_SEC:-600}
UI=http://127.0.0.1:$STOCKPIPE_UI_PORT
SHARDS=64 PER_RUN=16 BACKFILL_N=200 HISTORY=40 BENCH_N=50 BENCH_HISTORY=5000 BENCH_CAP=1200
PY=${SMOKE_PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "runlauncher-smoke: no $PY: run \`make install\` first" >&2; exit 2; }

work=$(mktemp -d)
sym() { seq -f "$1%03g" 1 "$2" | tr '\n' ' '; }
backfill_symbols=$(sym S "$BACKFILL_N")
bench_symbols=$(sym B $((2 * BENCH_N)))
# The stack's settings: docker/runlauncher-smoke.env, its symbols and overrides appended.
# shellcheck disable=SC2086  # one word per symbol
env_for() {  # FILE SYMBOLS [NAME=VALUE...]: writes FILE, points compose at it
  local file=$1 symbols=$2 pair drop=(-e '^STOCK_SYMBOLS=' -e '^STOCKPIPE_ENV_FILE=')
  shift 2
  for pair in "$@"; do drop+=(-e "^${pair%%=*}="); done
  grep -v "${drop[@]}" docker/runlauncher-smoke.env >"$file"
  printf '%s\n' "STOCKPIPE_ENV_FILE=$file" "STOCK_SYMBOLS=$(echo $symbols | tr ' ' ,)" "$@" >>"$file"
  compose=(docker compose --env-file "$file" --profile fake
    -f docker-compose.yml -f docker-compose.runlauncher.yml)
}
env_for "$work/backfill.env" "$backfill_symbols"
setting() { sed -n "s/^$1=//p" docker/runlauncher-smoke.env; }
run_containers() { docker ps -aq --filter label=dagster/run_id --filter "ancestor=$STOCKPIPE_IMAGE"; }
# A run container goes with its run (auto_remove): it is read while it runs, every second.
# One line per sighting: id, healthcheck, health state, then its command and labels.
sightings=$work/run-containers.tsv
watch_run_containers() {
  set +e
  # `index`, not `.State.Health`: a key the container lacks is then empty, not a template error.
  local format='{{.Id}}{{"\t"}}{{json (index .Config "Healthcheck")}}{{"\t"}}{{with index .State "Health"}}{{.Status}}{{else}}none{{end}}{{"\t"}}{{json .Config.Cmd}} {{json .Config.Labels}}'
  while :; do
    for id in $(docker ps --quiet --no-trunc --filter label=dagster/run_id --filter "ancestor=$STOCKPIPE_IMAGE"); do
      docker inspect --format "$format" "$id" 2>/dev/null   # gone meanwhile: next time
    done
    sleep 1
  done >>"$sightings"
}
watcher=

t0=$SECONDS
step() { printf '[runlauncher-smoke %4ds] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { step "FAILED: $*"; exit 1; }
cleanup() {
  local rc=$?
  [ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    "${compose[@]}" ps -a || true
    "${compose[@]}" logs --no-color --tail=80 daemon code-server || true
  fi
  step "docker compose down -v"
  leftover=$(run_containers)
  [ -z "$leftover" ] || docker rm -f $leftover >/dev/null 2>&1 || true
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
  step "exit $rc"
  exit "$rc"
}
trap cleanup EXIT

psql() { "${compose[@]}" exec -T postgres sh -c "psql -U \"\$POSTGRES_USER\" -d \"\$POSTGRES_DB\" -At -c \"$1\""; }
# The fake's control API, from inside the stack (it publishes no port).
fake() {
  "${compose[@]}" exec -T webserver python -c '
import sys, urllib.request
method, name, body = sys.argv[1], sys.argv[2], sys.argv[3].encode() or None
req = urllib.request.Request("http://fake-alphavantage:8765/_control/" + name, body, method=method,
                             headers={"Content-Type": "application/json"})
sys.stdout.write(urllib.request.urlopen(req, timeout=600).read().decode())' "$@"
}

if [ "${RUNLAUNCHER_SMOKE_BUILD:-1}" = 0 ]; then
  # For a re-run on a slow engine: the image must hold the tree being tested.
  docker image inspect "$STOCKPIPE_IMAGE" >/dev/null 2>&1 || fail "no image $STOCKPIPE_IMAGE to reuse"
  step "reusing $STOCKPIPE_IMAGE (RUNLAUNCHER_SMOKE_BUILD=0: no build)"
else
  step "docker compose build ($STOCKPIPE_IMAGE)"
  "${compose[@]}" build
fi
step "docker compose up --wait (UI on $UI, network $STOCKPIPE_RUN_NETWORK)"
"${compose[@]}" up --detach --wait --wait-timeout "$WAIT"
[ -z "$(run_containers)" ] || fail "run containers exist before any run"
: >"$sightings"
watch_run_containers &
watcher=$!

step "backfill of stock_data for $BACKFILL_N symbols: its $SHARDS shards, $PER_RUN per run (GraphQL)"
# shellcheck disable=SC2086  # one argument per shard
backfill=$("$PY" docker/runlauncher_smoke.py backfill "$UI" stock_data "$PER_RUN" "$WAIT" \
  $(seq -f 'shard-%02g' 0 $((SHARDS - 1)))) || fail "backfill: $backfill"
step "backfill: $backfill"
python3 -c 'import json, sys; b = json.loads(sys.argv[1])
assert b["runs"] == 4, b
assert b["max_at_once"] >= 2, f"the runs never overlapped: {b}"' "$backfill" || fail "backfill shape"

rows=$(psql "SELECT count(DISTINCT symbol) || ' ' || count(*) || ' ' || min(n) || ' ' || max(n) FROM (SELECT symbol, count(*) OVER (PARTITION BY symbol) AS n FROM stock_data WHERE symbol LIKE 'S%') t")
[ "$rows" = "$BACKFILL_N $((BACKFILL_N * HISTORY)) $HISTORY $HISTORY" ] \
  || fail "stock_data holds (symbols rows min max) $rows, not $BACKFILL_N x $HISTORY"
step "stock_data: $BACKFILL_N symbols x $HISTORY rows, exactly"

fake GET calls "" >"$work/calls.json"
calls=$("$PY" docker/runlauncher_smoke.py calls "$(setting API_DAILY_BUDGET)" \
  "$(setting API_CALLS_PER_MINUTE)" "$BACKFILL_N" <"$work/calls.json") || fail "calls: $calls"
step "the fake's log: $calls"
# The gate's own ledger, by when each call left (its slot's start for a call never reported):
# never more than the cap in any 60 s, exactly.
ledger=$(psql "SELECT count(*) || ' ' || max(n) FROM (SELECT count(*) OVER (ORDER BY called_at RANGE BETWEEN CURRENT ROW AND INTERVAL '59.999 seconds' FOLLOWING) AS n FROM api_call_ledger) t")
[ "${ledger% *}" = "$BACKFILL_N" ] && [ "${ledger#* }" -le "$(setting API_CALLS_PER_MINUTE)" ] \
  || fail "the gate's ledger (calls, busiest 60 s): $ledger"
step "the gate's ledger: ${ledger% *} calls, at most ${ledger#* } in any 60 s"

# auto_remove is asynchronous: a run's container goes within seconds of its end.
for _ in $(seq 60); do [ -z "$(run_containers)" ] && break; sleep 1; done
[ -z "$(run_containers)" ] || fail "run containers left behind: $(run_containers)"
step "no run container left"

logs=$("${compose[@]}" logs --no-color)
for name in POSTGRES_PASSWORD API_KEY; do
  secret=$(setting "$name")
  ! grep -qF "$secret" <<<"$logs" || fail "the value of $name is in a service's log"
  stored=$(psql "SELECT (SELECT count(*) FROM event_logs WHERE event LIKE '%$secret%') + (SELECT count(*) FROM runs WHERE run_body LIKE '%$secret%')")
  [ "$stored" = 0 ] || fail "the value of $name is in Dagster's event log or run storage ($stored)"
done
events=$(psql "SELECT count(*) FROM event_logs")
step "no secret in $(wc -l <<<"$logs") log lines nor in $events stored events"

# The benchmark's own universe: 2 x BENCH_N new symbols (at most 100: a partition each, so a
# run takes an exact symbol range) and a premium key's cap, so that loading, not the call
# gate's pacing, takes the time. Compose recreates the services whose settings changed.
env_for "$work/bench.env" "$bench_symbols" "API_CALLS_PER_MINUTE=$BENCH_CAP"
step "benchmark stack: $((2 * BENCH_N)) other symbols, API_CALLS_PER_MINUTE=$BENCH_CAP (docker compose up --wait)"
"${compose[@]}" up --detach --wait --wait-timeout "$WAIT"
step "benchmark: 1 run container vs 2 on full histories ($BENCH_N symbols x $BENCH_HISTORY bars each)"
fake POST configure "{\"history_length\": $BENCH_HISTORY}" >/dev/null
# shellcheck disable=SC2086
fake POST prerender "$(python3 -c 'import json, sys; print(json.dumps({"symbols": sys.argv[1:]}))' $bench_symbols)" >/dev/null
first() { echo "$1" | tr ' ' '\n' | sed -n "$2p"; }
b() { first "$bench_symbols" "$1"; }
one=$("$PY" docker/runlauncher_smoke.py launch "$UI" stock_job "$(b 1)" "$(b "$BENCH_N")")
one=$("$PY" docker/runlauncher_smoke.py wait "$UI" "$WAIT" "$one") || fail "1 container: $one"
half=$((BENCH_N / 2))
a=$("$PY" docker/runlauncher_smoke.py launch "$UI" stock_job "$(b $((BENCH_N + 1)))" "$(b $((BENCH_N + half)))")
c=$("$PY" docker/runlauncher_smoke.py launch "$UI" stock_job "$(b $((BENCH_N + half + 1)))" "$(b $((2 * BENCH_N)))")
two=$("$PY" docker/runlauncher_smoke.py wait "$UI" "$WAIT" "$a" "$c") || fail "2 containers: $two"
count() { psql "SELECT count(*) FROM stock_data WHERE symbol BETWEEN '$1' AND '$2'"; }
rows_one=$(count "$(b 1)" "$(b "$BENCH_N")")
rows_two=$(count "$(b $((BENCH_N + 1)))" "$(b $((2 * BENCH_N)))")
[ "$rows_one" = "$rows_two" ] && [ "$rows_one" -ge $((BENCH_N * (BENCH_HISTORY - 10))) ] \
  || fail "benchmark rows: 1 container $rows_one, 2 containers $rows_two"
result=$(python3 -c 'import json, sys
one, two, rows = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
r1, r2 = rows / one["window_sec"], rows / two["window_sec"]
print(json.dumps({"rows": rows, "one": {**one, "rows_per_sec": round(r1)},
                  "two": {**two, "rows_per_sec": round(r2)}, "ratio_two_over_one": round(r2 / r1, 2)}))' \
  "$one" "$two" "$rows_one")
step "benchmark: $result"
[ -z "${RUNLAUNCHER_BENCH_OUT:-}" ] || echo "$result" >"$RUNLAUNCHER_BENCH_OUT"
for _ in $(seq 60); do [ -z "$(run_containers)" ] && break; sleep 1; done
[ -z "$(run_containers)" ] || fail "run containers left behind after the benchmark"
kill "$watcher" && wait "$watcher" 2>/dev/null || true
watcher=
containers=$("$PY" docker/runlauncher_smoke.py containers "$UI" "$sightings") \
  || fail "run containers: $containers"
step "run containers: $containers"
# Names, never values: the run's command carries the instance (env var names where the
# settings are) and the launcher's env_vars; the values reach the container's environment only.
for name in POSTGRES_PASSWORD API_KEY; do
  grep -qF "$name" "$sightings" || fail "$name is not named in any run container's command"
  ! grep -qF "$(setting "$name")" "$sightings" || fail "the value of $name is in a run container's command or labels"
done
step "run containers: the secrets by name in their commands, never by value"
step "PASSED"
