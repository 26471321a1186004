#!/usr/bin/env bash
# Bad input never makes the server fail: schemathesis generates requests for every operation of
# the served OpenAPI document (its coverage phase, then a fixed-seed fuzzing phase of
# FLEXPORTAL_FUZZ_SECONDS, default 60) against a live server on a fresh store, once on SQLite and
# once on PostgreSQL, and the check fails on any 5xx answer (`not_a_server_error`). Answers of
# 4xx are what bad input should get and are not judged here.
#
# PostgreSQL is found as for the test suite (FLEXPORTAL_TEST_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/test); unreachable, its half is skipped loudly unless
# FLEXPORTAL_TEST_REQUIRE_POSTGRES is set. Needs python3 with venv, psql and access to PyPI.
# Usage: scripts/check-fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg-available.sh
. scripts/pg-available.sh

seconds="${FLEXPORTAL_FUZZ_SECONDS:-60}"
seed=88166183080017587273052987876033156646
work="$(mktemp -d)"
server=""
pg_admin=""
pg_db=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then
    psql -XAtq -d "$pg_admin" -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet -p flexportal
bin="$PWD/target/debug/flexportal"
export FLEXPORTAL_LOG=warn
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.*"

field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# Fuzzes a server on the store at $1; fails on any server error.
fuzz() {
  local url="$1" name="$2" tenant key port report
  export FLEXPORTAL_DATABASE_URL="$url"
  tenant="$("$bin" tenants create --name "Fuzz" --currency EUR --json | field tenantId)"
  key="$("$bin" keys create --tenant "$tenant" --json | field apiKey)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  FLEXPORTAL_FILES_URL="$work/files-$name" FLEXPORTAL_JOBS_INTERVAL=0 \
    "$bin" serve --addr "127.0.0.1:$port" 2>"$work/server-$name.log" &
  server=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  report="$work/report-$name.txt"
  # The exit status also counts schemathesis's own runtime errors (seen: a Hypothesis AST
  # recursion check); only server errors fail this check, read from the report. Run from the
  # temporary directory: schemathesis and Hypothesis keep caches in the current one, and one
  # left in the checkout would replay old failures.
  (cd "$work" && "$work/venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
    -H "Authorization: Bearer $key" -H "Tenant-ID: $tenant" \
    --checks not_a_server_error --phases coverage,fuzzing --max-examples 30 \
    --max-time "$seconds" --seed "$seed" --workers 2 --no-color >"$report" 2>&1) || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
  if ! grep -q "Test cases:" "$report"; then
    cat "$report" >&2
    echo "FAIL ($name): schemathesis did not finish" >&2
    exit 1
  fi
  if grep -q "Server error" "$report"; then
    sed -n '/FAILURES/,/SUMMARY/p' "$report" >&2
    echo "FAIL ($name): the server answered 5xx to generated input (log: see above)" >&2
    grep -E "ERROR" "$work/server-$name.log" | head -20 >&2 || true
    exit 1
  fi
  echo "fuzz ($name): $(grep -A1 "Test cases:" "$report" | tail -1 | sed 's/^ *//'), no server error"
}

fuzz "sqlite://$work/fuzz.db" sqlite

pg_base="${FLEXPORTAL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if pg_available "$pg_base" "the fuzz check"; then
  pg_admin="$pg_base"
  pg_db="flexportal_test_$$_fuzz"
  psql -XAtq -d "$pg_admin" -c "CREATE DATABASE \"$pg_db\"" >/dev/null
  if [[ "${pg_base#*://}" == */* ]]; then pg_url="${pg_base%/*}/$pg_db"; else pg_url="$pg_base/$pg_db"; fi
  fuzz "$pg_url" postgres
fi
