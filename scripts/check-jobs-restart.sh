#!/usr/bin/env bash
# A `flexportal jobs run` killed with SIGKILL halfway through ~10,000 subscriptions whose contracts
# have ended, then run again, leaves exactly the state of one uninterrupted run, and a third run
# changes nothing. Checked on SQLite and on PostgreSQL (the two halves run side by side).
#
# Per engine:
#  1. A store: three business units loaded with `flexportal demo` on different billing settings
#     (VAT 21%, net-14 terms and the first payment collected externally; billing on the 1st with
#     a pro-rated first payment; billing on the 28th, free until then), then copied by SQL into
#     32 more units: every table of a unit is keyed by tenant_id first, so a unit's rows copied
#     under another tenant_id make a valid unit (loading ~10,000 subscriptions through the use
#     cases would take minutes). Every unit gets a contract-end behaviour and late-fee rules with
#     `flexportal tenants settings set`: mostly auto_terminate, some require_action (holdover
#     charges), auto_renew_same_term and auto_renew_monthly, late fees on some. The jobs run as of
#     one month after the last contract end, so every active subscription is past its end.
#  2. A copy of the store (SQLite: the file; PostgreSQL: CREATE DATABASE … TEMPLATE), on which
#     `flexportal jobs run --as-of DATE` runs to completion: the clean run.
#  3. Meanwhile, on the original, the same command killed with kill -9 once it has dealt with a
#     share of the subscriptions (ended, changed, or with a holdover charge, as committed):
#     random in 25–75% or FLEXPORTAL_KILL_AT percent. The check fails when the run ends first or
#     when the share at the kill is outside 10–90%. Then it runs again to completion.
#  4. Every row of every business-unit table of the two stores, with the ids of rows created by
#     the jobs and every timestamp written by the jobs replaced by placeholders, must be equal;
#     then a third run on the original must leave every row exactly as it was.
#
# PostgreSQL is the server of FLEXPORTAL_TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test) as for the test suite, with databases named
# flexportal_test_<pid>_jobs_* like the suite's (a later test process drops them if this script
# dies without cleaning up); they are dropped on exit. Unreachable, the PostgreSQL half is skipped
# with a loud message, unless FLEXPORTAL_TEST_REQUIRE_POSTGRES=1, which makes it a failure. Their
# commits are asynchronous (synchronous_commit=off): only the client is killed, never the server,
# so every commit a run made is seen by the next run.
#
# Needs sqlite3, psql, perl and python3; ~1 GB under $TMPDIR. Usage: scripts/check-jobs-restart.sh
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=scripts/pg-available.sh
. "$(dirname "$0")/pg-available.sh"
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
pg_admin=""
pg_dbs=()
halves=()
cleanup() {
  local f
  for f in "${halves[@]}"; do kill -TERM -- "-$f" 2>/dev/null || true; done
  for f in "${pg_dbs[@]}"; do
    psql -XAtq -d "$pg_admin" -c "DROP DATABASE IF EXISTS \"$f\" WITH (FORCE)" >/dev/null 2>&1 ||
      psql -XAtq -d "$pg_admin" -c "DROP DATABASE IF EXISTS \"$f\"" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The sqlite3 shell reads and compares the SQLite half; install it on a machine without it.
if ! command -v sqlite3 >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq sqlite3 >/dev/null || { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq sqlite3 >/dev/null; }
fi

cargo build --quiet -p flexportal
bin="$PWD/target/debug/flexportal"
export FLEXPORTAL_LOG=warn
began=$SECONDS

# The demo units: billing settings, orders.
seed_settings=(
  '{"taxes": {"vatEnabled": true, "defaultRate": 21}, "payments": {"paymentTerms": "net_14",
    "firstPayment": "collected_externally"}}'
  '{"payments": {"billingCycle": "fixed_day", "dayOfMonth": 1, "firstPayment": "pro_rated"}}'
  '{"payments": {"billingCycle": "fixed_day", "dayOfMonth": 28, "firstPayment": "free_until_cycle"}}'
)
seed_orders=(250 250 60)
# Contract-end behaviour and late fees: "demo unit|behaviour|late fees" for each copy, then for
# the demo units themselves. The costly behaviours (one renewal or holdover charge per month past
# the end, on PostgreSQL a few round trips each) and late fees (by the run's date every pending
# payment of a unit is overdue) are on a few units, to keep the check short.
no_fee='{"enabled": false}'
flat_fee='{"enabled": true, "method": "flat", "value": 5, "gracePeriodDays": 0}'
pct_fee='{"enabled": true, "method": "percentage", "value": 2.5, "gracePeriodDays": 7}'
copies=()
for _ in $(seq 1 12); do copies+=("0|auto_terminate|$no_fee" "1|auto_terminate|$no_fee"); done
copies+=("0|auto_terminate|$no_fee" "0|auto_terminate|$flat_fee" "1|auto_terminate|$pct_fee"
  "0|require_action|$no_fee" "1|require_action|$flat_fee" "1|require_action|$pct_fee"
  "2|auto_renew_same_term|$pct_fee" "2|auto_renew_same_term|$no_fee")
seed_ends=("require_action|$pct_fee" "auto_terminate|$flat_fee" "auto_renew_monthly|$flat_fee")
# The order in which a unit's tables are copied (foreign keys first). Every table with a
# tenant_id column but api_keys must be in it: a new one fails the check until it is added.
copied_tables=(tenants products variants assets customers billing_groups orders subscriptions
  payments payment_lines asset_assignments subscription_events files contract_templates
  contract_jobs asset_changes webhook_endpoints webhook_deliveries webhook_attempts
  idempotency_keys)
# The id a table gives its rows, replaced by a placeholder in the rows the jobs create.
declare -A own_id=([payments]=payment_id [subscription_events]=event_id [orders]=order_id
  [customers]=customer_id [subscriptions]=rental_id [products]=product_id
  [variants]=variant_id [api_keys]=key_id [billing_groups]=billing_group_id
  [payment_lines]=line_id [files]=file_id [contract_jobs]=job_id [asset_changes]=change_id
  [webhook_deliveries]=delivery_id)

now_ms() { date +%s%3N; }
say() { echo "[$((SECONDS - began))s] $*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# sql URL TEXT: runs the statements, prints the rows tab-separated.
sql() {
  case "$1" in
    sqlite://*)
      sqlite3 -batch -bail -noheader -separator $'\t' -cmd '.timeout 60000' "${1#sqlite://}" <<<"$2"
      ;;
    *) psql -XAtq -v ON_ERROR_STOP=1 -F $'\t' -d "$1" <<<"$2" ;;
  esac
}

# columns URL TABLE: the table's columns, comma-separated, in table order.
columns() {
  case "$1" in
    sqlite://*) sql "$1" "SELECT name FROM pragma_table_info('$2') ORDER BY cid" ;;
    *) sql "$1" "SELECT column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = '$2' ORDER BY ordinal_position" ;;
  esac | paste -sd, -
}

# unit_tables URL: the tables with a tenant_id column.
unit_tables() {
  case "$1" in
    sqlite://*) sql "$1" "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
      WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY m.name" ;;
    *) sql "$1" "SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name" ;;
  esac
}

# progress URL T0: rows the jobs wrote: payments and history events created since T0 (payments
# counted per unit, on the index that starts with tenant_id and created_at) and subscriptions not
# active.
progress() {
  sql "$1" "SELECT (SELECT count(*) FROM subscriptions WHERE status <> 'active')
    + (SELECT count(*) FROM subscription_events WHERE created_at >= $2)
    + (SELECT sum((SELECT count(*) FROM payments p WHERE p.tenant_id = t.tenant_id
      AND p.created_at >= $2)) FROM tenants t)"
}

# processed URL T0: subscriptions the jobs have dealt with: not active any more, changed since T0,
# or with a payment created since T0 (a holdover charge).
processed() {
  sql "$1" "SELECT count(*) FROM subscriptions s WHERE s.status <> 'active' OR s.updated_at >= $2
    OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = s.tenant_id
      AND p.rental_id = s.rental_id AND p.created_at >= $2)"
}

# contract_end TENANT "BEHAVIOUR|LATE FEES": sets them with the CLI.
contract_end() {
  "$bin" tenants settings set --tenant "$1" --merge "{\"subscriptions\": {\"contractEnd\":
    {\"behaviour\": \"${2%%|*}\"}}, \"payments\": {\"lateFees\": ${2#*|}}}" >/dev/null
}

# build URL: the store. Prints the date to run the jobs as.
build() {
  local url="$1" seeds=() i t s tb
  export FLEXPORTAL_DATABASE_URL="$url"
  "$bin" migrate >/dev/null
  local missing
  missing="$(comm -13 <(printf '%s\n' "${copied_tables[@]}" api_keys | sort) <(unit_tables "$url" | sort))"
  if [ -n "$missing" ]; then
    echo "FAIL: business-unit tables the check does not copy: $missing" >&2
    return 1
  fi
  # The demo units load one after the other on SQLite (one writer), side by side on PostgreSQL.
  local loads=()
  for i in "${!seed_settings[@]}"; do
    t="$("$bin" tenants create --name "Demo $i" --currency EUR --json | field tenantId)"
    "$bin" tenants settings set --tenant "$t" --merge "${seed_settings[$i]}" >/dev/null
    {
      "$bin" demo --tenant "$t" --orders "${seed_orders[$i]}" \
        --assets $((seed_orders[i] * 9 / 5)) --customers 200 | sed 's/^/  /' >&2
    } &
    loads+=($!)
    if [[ "$url" == sqlite://* ]]; then wait "$!"; fi
    seeds+=("$t")
  done
  for i in "${loads[@]}"; do wait "$i"; done
  local -A cols
  for tb in "${copied_tables[@]}"; do cols[$tb]="$(columns "$url" "$tb")"; done
  # Units with the same settings are copied together from demo units that have those settings.
  local settings
  while IFS= read -r settings; do
    local text="BEGIN;" used=" "
    for i in "${!copies[@]}"; do
      [ "${copies[$i]#*|}" = "$settings" ] || continue
      s="${seeds[${copies[$i]%%|*}]}"
      if [[ "$used" != *" $s "* ]]; then
        contract_end "$s" "$settings"
        used+="$s "
      fi
      t="${s:0:18}$(printf %04d "$i")"
      for tb in "${copied_tables[@]}"; do
        local select
        select="$(sed -E "s/(^|,)tenant_id(,|$)/\1'$t'\2/" <<<"${cols[$tb]}")"
        if [ "$tb" = tenants ]; then
          select="$(sed -E "s/(^|,)name(,|$)/\1'Copy $i of ' || name\2/" <<<"$select")"
        fi
        text+="INSERT INTO $tb (${cols[$tb]}) SELECT $select FROM $tb WHERE tenant_id = '$s';"
      done
    done
    sql "$url" "$text COMMIT;"
  done < <(printf '%s\n' "${copies[@]#*|}" | sort -u)
  for i in "${!seeds[@]}"; do contract_end "${seeds[$i]}" "${seed_ends[$i]}"; done
  local last
  last="$(sql "$url" "SELECT max(end_date) FROM subscriptions WHERE status = 'active'")"
  date -u -d "$last + 1 month" +%F
}

# dump URL: every row of every business-unit table, one line each: table, created_at, own id,
# then the row (SQLite: a JSON array; PostgreSQL: COPY's text format).
dump() {
  local url="$1" t cols created id query
  for t in $(unit_tables "$url"); do
    cols="$(columns "$url" "$t")"
    created=0 id="''"
    if [[ ",$cols," == *,created_at,* ]]; then created=created_at; fi
    if [ -n "${own_id[$t]:-}" ]; then id="${own_id[$t]}"; fi
    query="SELECT '$t', $created, $id"
    case "$url" in
      sqlite://*) sql "$url" "$query, json_array($cols) FROM $t" ;;
      *) sql "$url" "COPY ($query, $cols FROM $t) TO STDOUT" ;;
    esac
  done
}

# normalise T0 T1 < DUMP: table and row of each line, sorted, with the row's id replaced in rows
# created at T0 or later, and every epoch-millisecond number from T0 to T1 (a timestamp the jobs
# wrote) replaced.
normalise() {
  perl -ne '
    BEGIN { ($t0, $t1) = @ARGV; @ARGV = () }
    my ($t, $created, $id, $row) = split /\t/, $_, 4;
    $row =~ s/\Q$id\E/<new id>/g if $created >= $t0 && $id ne "";
    $row =~ s/(?<![0-9A-Za-z_])(1[0-9]{12})(?![0-9A-Za-z_])/$1 >= $t0 && $1 <= $t1 ? "<job time>" : $1/ge;
    print "$t\t$row";
  ' "$1" "$2" | LC_ALL=C sort -S 200M
}

# compare WHAT A B: fails with the difference.
compare() {
  if ! cmp -s "$2" "$3"; then
    echo "FAIL: $1" >&2
    diff "$2" "$3" >"$2.diff" || true
    echo "lines only in the first (<) and only in the second (>), per table:" >&2
    grep '^[<>]' "$2.diff" | cut -f1 | sort | uniq -c >&2
    echo "the first 80 lines of the difference:" >&2
    head -n 80 "$2.diff" >&2
    return 1
  fi
}

# jobs_run URL DATE: one run to completion; prints its JSON report.
jobs_run() {
  FLEXPORTAL_DATABASE_URL="$1" "$bin" jobs run --as-of "$2" --json
}

# check ENGINE ORIGINAL COPY COPY-COMMAND...: the whole check on one engine.
check() {
  local engine="$1" orig="$2" copy="$3"
  shift 3
  local dir="$work/$engine"
  mkdir -p "$dir"
  say "building the store"
  local t_step=$SECONDS as_of subs ended
  as_of="$(build "$orig")"
  subs="$(sql "$orig" "SELECT count(*) FROM subscriptions WHERE status = 'active'")"
  ended="$(sql "$orig" "SELECT count(*) FROM subscriptions WHERE status = 'active'
    AND end_date < '$as_of'")"
  say "$ended of $subs active subscriptions in $(sql "$orig" "SELECT count(*) FROM tenants") units past their end on $as_of; store built in $((SECONDS - t_step))s"
  "$@"
  local t0 t1 p0 s0 total clean rerun third
  t0="$(now_ms)"
  p0="$(progress "$orig" "$t0")"
  s0="$(processed "$orig" "$t0")"

  # The clean run on the copy and the run to kill on the original go side by side; the kill point
  # is a share of the subscriptions to process, known before either run ends.
  local clean_run
  {
    started=$SECONDS
    jobs_run "$copy" "$as_of" >"$dir/clean.json"
    echo $((SECONDS - started)) >"$dir/clean.seconds"
  } &
  clean_run=$!
  local kill_at done_subs done_rows job rc=0
  kill_at="${FLEXPORTAL_KILL_AT:-$(shuf -i 25-75 -n 1)}"
  local t_step=$SECONDS
  FLEXPORTAL_DATABASE_URL="$orig" "$bin" jobs run --as-of "$as_of" --json >"$dir/killed.out" 2>&1 &
  job=$!
  while :; do
    done_subs=$(($(processed "$orig" "$t0") - s0))
    if [ $((done_subs * 100)) -ge $((ended * kill_at)) ]; then break; fi
    if ! kill -0 "$job" 2>/dev/null; then
      wait "$job" || true
      echo "FAIL: the run finished ($done_subs of $ended subscriptions) before it could be killed at ${kill_at}%" >&2
      cat "$dir/killed.out" >&2
      return 1
    fi
    sleep 0.2
  done
  kill -9 "$job"
  wait "$job" 2>/dev/null || rc=$?
  if [ "$rc" -ne 137 ]; then
    echo "FAIL: the run was not killed by SIGKILL (exit status $rc)" >&2
    cat "$dir/killed.out" >&2
    return 1
  fi
  done_subs=$(($(processed "$orig" "$t0") - s0))
  done_rows=$(($(progress "$orig" "$t0") - p0))
  local pct=$((done_subs * 100 / ended))
  say "run on the original killed with SIGKILL after $((SECONDS - t_step))s with $done_subs of $ended subscriptions processed (${pct}%; aimed at ${kill_at}%)"
  if [ "$pct" -lt 10 ] || [ "$pct" -gt 90 ]; then
    echo "FAIL: killed at ${pct}% of the subscriptions, outside 10–90%: nothing was checked" >&2
    return 1
  fi
  t_step=$SECONDS
  rerun="$(jobs_run "$orig" "$as_of")"
  say "second run on the original in $((SECONDS - t_step))s: $rerun"

  if ! wait "$clean_run"; then
    echo "FAIL: the clean run failed" >&2
    return 1
  fi
  clean="$(cat "$dir/clean.json")"
  total=$(($(progress "$copy" "$t0") - p0))
  say "clean run on the copy (side by side with the two runs above) in $(cat "$dir/clean.seconds")s: $clean"
  if [ "$total" -le 0 ]; then
    echo "FAIL: the clean run changed nothing" >&2
    return 1
  fi
  local dumping
  dump "$copy" >"$dir/clean.raw" &
  dumping=$!
  wait "$dumping"
  dump "$orig" >"$dir/restarted.raw"
  t1="$(now_ms)"
  normalise "$t0" "$t1" <"$dir/clean.raw" >"$dir/clean"
  rm "$dir/clean.raw"
  normalise "$t0" "$t1" <"$dir/restarted.raw" >"$dir/restarted"
  compare "killed and restarted run differs from one clean run" "$dir/clean" "$dir/restarted"
  say "killed + restarted run = one clean run"
  rm "$dir/clean" "$dir/restarted"

  third="$(jobs_run "$orig" "$as_of")"
  dump "$orig" >"$dir/third.raw"
  LC_ALL=C sort -S 200M -o "$dir/restarted.raw" "$dir/restarted.raw"
  LC_ALL=C sort -S 200M -o "$dir/third.raw" "$dir/third.raw"
  compare "a third run changed the store: $third" "$dir/restarted.raw" "$dir/third.raw"
  say "third run changed nothing: $third"
  local rows written
  rows="$(wc -l <"$dir/third.raw")"
  written="$(sql "$orig" "SELECT
    (SELECT count(*) FROM payments WHERE created_at >= $t0) || ' payments and ' ||
    (SELECT count(*) FROM subscription_events WHERE created_at >= $t0) || ' history events created; ' ||
    (SELECT count(*) FROM payments WHERE created_at < $t0 AND updated_at >= $t0) || ' payments, ' ||
    (SELECT count(*) FROM subscriptions WHERE updated_at >= $t0) || ' subscriptions, ' ||
    (SELECT count(*) FROM assets WHERE updated_at >= $t0) || ' assets, ' ||
    (SELECT count(*) FROM customers WHERE updated_at >= $t0) || ' customers updated'")"
  say "passed: $ended subscriptions past their end; killed with $pct% of them ($done_rows of the clean run's $total rows) done; all $rows rows equal to the clean run's; the jobs wrote $written"
  rm -rf "$dir"
}

# half ENGINE ...: check in the background, in a process group of its own (so that an early
# exit stops all of it), its lines prefixed with the engine.
half() {
  set -m
  { check "$@" 2>&1 | sed -u "s/^/$1: /"; } &
  halves+=($!)
  set +m
}

pg_base="${FLEXPORTAL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
with_db_name() {
  if [[ "${1#*://}" == */* ]]; then echo "${1%/*}/$2"; else echo "$1/$2"; fi
}
if pg_available "$pg_base" "the jobs restart check"; then
  pg_admin="$pg_base"
  orig_db="flexportal_test_$$_jobs_original"
  copy_db="flexportal_test_$$_jobs_copy"
  pg_dbs=("$orig_db" "$copy_db")
  sql "$pg_admin" "CREATE DATABASE \"$orig_db\";
    ALTER DATABASE \"$orig_db\" SET synchronous_commit = off;" >/dev/null
fi

copy_sqlite() {
  sql "sqlite://$work/original.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  if [ -s "$work/original.db-wal" ]; then
    echo "FAIL: the SQLite store's write-ahead log is not empty after a checkpoint" >&2
    return 1
  fi
  cp "$work/original.db" "$work/copy.db"
}
half SQLite "sqlite://$work/original.db" "sqlite://$work/copy.db" copy_sqlite
if [ -n "$pg_admin" ]; then
  copy_pg() {
    sql "$pg_admin" "CREATE DATABASE \"$copy_db\" TEMPLATE \"$orig_db\";
      ALTER DATABASE \"$copy_db\" SET synchronous_commit = off;" >/dev/null
  }
  half PostgreSQL "$(with_db_name "$pg_base" "$orig_db")" "$(with_db_name "$pg_base" "$copy_db")" copy_pg
fi

failed=0
for h in "${halves[@]}"; do wait "$h" || failed=1; done
if [ "$failed" = 1 ]; then
  echo "jobs restart check FAILED" >&2
  exit 1
fi
say "jobs restart check passed: a killed and restarted run equals one clean run"
