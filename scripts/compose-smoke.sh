#!/usr/bin/env bash
# The docker compose stack end to end (needs a Docker engine; `make compose-smoke`):
#   build the one stockpipe image + up with the fake Alpha Vantage (profile `fake`), wait for
#   every healthcheck, check every stockpipe service runs that one image, launch stock_job
#   with `stockpipe launch --wait` (the webserver's GraphQL API), count the rows with psql inside
#   the postgres container, restart PostgreSQL and launch again at once (must succeed, no run
#   left NOT_STARTED), take the stack down WITHOUT -v and up again, check that rows and run
#   history survived, check the logs hold no password, then `docker compose down -v`.
# GraphQL reads go through stockpipe.testing.webserver (the tests' client) and the second launch
# is the host's `stockpipe launch`: both from the project's venv, `make install` first (the make
# target does it).
# Runs as its own compose project with its own env file (docker/smoke.env), its own image
# name and free local ports, so it never touches a real stack, its volumes, its image or the
# developer's .env. The image stays for the next run's build cache (`docker image rm
# stockpipe-smoke:local` drops it); a rebuild removes the one it replaces.
set -euo pipefail
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME=${SMOKE_PROJECT:-stockpipe-smoke}
export STOCKPIPE_IMAGE=${SMOKE_IMAGE:-stockpipe-smoke:local}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export STOCKPIPE_BIND=127.0.0.1
export STOCKPIPE_UI_PORT=${STOCKPIPE_UI_PORT:-$(free_port)}
export STOCKPIPE_DB_PORT=${STOCKPIPE_DB_PORT:-$(free_port)}
compose=(docker compose --env-file docker/smoke.env --profile fake)
UI=http://127.0.0.1:$STOCKPIPE_UI_PORT
EXPECTED_ROWS=$'IBM|40\nMSFT|40'   # docker/smoke.env symbols x the fake's --history-length
WAIT=${SMOKE_WAIT_SEC:-420}
BIN=${SMOKE_VENV:-.venv}/bin
[ -x "$BIN/python" ] || { echo "compose-smoke: no $BIN/python: run \`make install\` first" >&2; exit 2; }
webserver() { "$BIN/python" -m stockpipe.testing.webserver "$@"; }

t0=$SECONDS
step() { printf '[smoke %4ds] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { step "FAILED: $*"; exit 1; }
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    "${compose[@]}" ps -a || true
    "${compose[@]}" logs --no-color --tail=60 || true
  fi
  step "docker compose down -v"
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  step "exit $rc"
  exit "$rc"
}
trap cleanup EXIT

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

psql_rows() {
  "${compose[@]}" exec -T postgres sh -c \
    'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -At -c "SELECT symbol, count(*) FROM stock_data GROUP BY symbol ORDER BY symbol"'
}

up_and_wait() {
  # --wait returns once every service is healthy (postgres, code server, daemon, webserver, fake)
  "${compose[@]}" up --detach --wait --wait-timeout "$WAIT"
  webserver wait-job "$UI" stock_job 120 >/dev/null
}

smoke_image_before=$(image_id "$STOCKPIPE_IMAGE")
step "docker compose build ($STOCKPIPE_IMAGE)"
"${compose[@]}" build
smoke_image=$(image_id "$STOCKPIPE_IMAGE")
[ -n "$smoke_image" ] || fail "the build did not tag $STOCKPIPE_IMAGE"
# The stack names no image but its own and the database's: the developer's stockpipe:local is
# never re-tagged. (Not a comparison of image ids: a fully cached build has the same id as the
# developer's image, and a build of theirs meanwhile would change it.)
images=$("${compose[@]}" config --images | sort -u | tr '\n' ' ')
wanted=$(printf '%s\n' postgres:17 "$STOCKPIPE_IMAGE" | sort -u | tr '\n' ' ')
[ "$images" = "$wanted" ] || fail "the stack uses the images $images, not $wanted"
if [ -n "$smoke_image_before" ] && [ "$smoke_image_before" != "$smoke_image" ]; then
  docker image rm "$smoke_image_before" >/dev/null 2>&1 || true   # untagged now: ours to drop
fi
step "docker compose up --wait (UI on $UI, PostgreSQL on 127.0.0.1:$STOCKPIPE_DB_PORT)"
up_and_wait
step "stack healthy"

# One image, built once, run by every stockpipe service.
for service in code-server daemon webserver fake-alphavantage; do
  running=$(docker inspect -f '{{.Image}}' "$("${compose[@]}" ps -q "$service")")
  [ "$running" = "$smoke_image" ] || fail "$service runs $running, not $STOCKPIPE_IMAGE ($smoke_image)"
done

[ "$("${compose[@]}" exec -T webserver id -u)" != 0 ] || fail "the webserver runs as root"
published=$("${compose[@]}" port webserver 3000)
[ "${published%:*}" = 127.0.0.1 ] || fail "port 3000 published on $published, not 127.0.0.1"

step "stockpipe launch --wait: stock_job for every symbol in one run (the webserver's GraphQL API)"
# As a user would, inside the image: the webserver container answers on its own port 3000.
run_url=$("${compose[@]}" exec -T webserver stockpipe launch --url http://127.0.0.1:3000 \
  --wait --timeout "$WAIT") || fail "stockpipe launch --wait: exit $?"
run_id=${run_url##*/}
step "run $run_id: SUCCESS"

rows=$(psql_rows)
[ "$rows" = "$EXPECTED_ROWS" ] || fail "stock_data rows: got '$rows', want '$EXPECTED_ROWS'"
step "stock_data: $(echo "$rows" | tr '\n' ' ')"
# The README's query, as written there.
"${compose[@]}" exec -T postgres psql -U stockpipe stockpipe -c 'SELECT * FROM stock_data LIMIT 10;' \
  | grep -q '(10 rows)' || fail "README's psql query did not return 10 rows"

# The webserver keeps a pooled connection per instance storage; a restart cuts them. The first
# launch after it must work (deploy/dagster.yaml, stockpipe_pre_ping) and leave no run stuck.
step "docker compose restart postgres"
"${compose[@]}" restart postgres
"${compose[@]}" up --detach --wait --wait-timeout "$WAIT" postgres
step "PostgreSQL healthy again: stockpipe launch --wait at once, from the host (published port)"
after_restart=$("$BIN/stockpipe" launch --url "$UI" --wait --timeout "$WAIT") \
  || fail "stockpipe launch --wait after the restart: exit $?"
step "run ${after_restart##*/}: SUCCESS"
unfinished=$(webserver unfinished "$UI" stock_job)
[ -z "$unfinished" ] || fail "runs left unfinished after the restart: $unfinished"

# No secret of docker/smoke.env in any service's log (checked before `down`, which drops the
# containers and their logs).
logs=$("${compose[@]}" logs --no-color)
for name in POSTGRES_PASSWORD API_KEY; do
  secret=$(sed -n "s/^$name=//p" docker/smoke.env)
  ! grep -qF "$secret" <<<"$logs" || fail "the value of $name is in the logs"
done
step "no secret in $(wc -l <<<"$logs") log lines ($(grep -c '\*\*\*' <<<"$logs" || true) with a masked value)"

step "docker compose down (volumes kept)"
"${compose[@]}" down
step "docker compose up --wait again"
up_and_wait
step "stack healthy again"

rows=$(psql_rows)
[ "$rows" = "$EXPECTED_ROWS" ] || fail "after restart, stock_data rows: got '$rows'"
status=$(webserver status "$UI" "$run_id")
[ "$status" = SUCCESS ] || fail "after restart, run $run_id is '$status'"
step "after restart: rows intact, run $run_id still in history as $status"

step "PASSED"
