# Sourced by the checks under scripts/ that have a PostgreSQL half.
#
# pg_available URL WHAT: whether the PostgreSQL server of URL answers. When it does not, the
# check fails (exit 1) if FLEXPORTAL_TEST_REQUIRE_POSTGRES is 1 or true (CI sets it), as the test
# suite does; otherwise it says loudly that the PostgreSQL half of WHAT is skipped and returns 1.
pg_available() {
  local base="$1" what="$2" err
  if err="$(psql -XAtq -d "$base" -c 'SELECT 1' 2>&1 >/dev/null)"; then
    return 0
  fi
  if [ "${FLEXPORTAL_TEST_REQUIRE_POSTGRES:-}" = 1 ] || [ "${FLEXPORTAL_TEST_REQUIRE_POSTGRES:-}" = true ]; then
    echo "FAIL: PostgreSQL is required (FLEXPORTAL_TEST_REQUIRE_POSTGRES) but unreachable at $base: $err" >&2
    exit 1
  fi
  echo >&2
  echo "!!! PostgreSQL unreachable at $base: $err" >&2
  echo "!!! SKIPPING the PostgreSQL half of $what" >&2
  echo >&2
  return 1
}
