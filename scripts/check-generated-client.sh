#!/usr/bin/env bash
# The served OpenAPI document as a client developer uses it: validated as OpenAPI 3.1
# (openapi-spec-validator), turned into a Python client by openapi-python-client, and a
# create-list-get round trip of assets and orders written against that client type-checked with
# `mypy --strict` and run against a live server on a fresh SQLite store.
#
# Needs python3 with venv and access to PyPI. Usage: scripts/check-generated-client.sh
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet -p flexportal
bin="$PWD/target/debug/flexportal"
export FLEXPORTAL_DATABASE_URL="sqlite://$work/flexportal.db"
export FLEXPORTAL_LOG=warn
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
tenant="$("$bin" tenants create --name "Client check" --currency EUR --json | field tenantId)"
key="$("$bin" keys create --tenant "$tenant" --json | field apiKey)"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --addr "127.0.0.1:$port" &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/openapi.json" >"$work/openapi.json"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  "openapi-python-client==0.29.*" "openapi-spec-validator==0.7.*" "mypy==1.*"
"$work/venv/bin/openapi-spec-validator" "$work/openapi.json"
"$work/venv/bin/openapi-python-client" generate --path "$work/openapi.json" --meta none \
  --output-path "$work/client/flexportal_client" --fail-on-warning \
  --config scripts/openapi-python-client.yaml
cp scripts/client_round_trip.py "$work/client/"
# The generated package is used for its types but not judged: openapi-python-client 0.29 shadows
# a variable in models whose only property is named like the model (`Error.error`).
cat >"$work/client/mypy.ini" <<'INI'
[mypy]
strict = True

[mypy-flexportal_client.*]
ignore_errors = True
INI
(cd "$work/client" && "$work/venv/bin/mypy" client_round_trip.py)
(cd "$work/client" && "$work/venv/bin/python" client_round_trip.py "http://127.0.0.1:$port" "$tenant" "$key")
echo "generated client: type-checked and round trip passed"
