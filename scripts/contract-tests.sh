#!/usr/bin/env bash
# Contract tests against a live Shelf server: schemathesis fuzzes every operation of openapi/shelf.yaml, then the pytest
# suites in scripts/contract run. Run from the repository root after `swift build --build-tests` (`make test` does both).
#
# Environment:
#   SHELF_BIN              server binary (default .build/debug/shelf)
#   CONTRACT_MAX_EXAMPLES  schemathesis test cases per operation and phase (default 40)
#   CONTRACT_SEED          schemathesis seed (default 20261123, fixed so runs are reproducible)
#   CONTRACT_WORKERS       schemathesis workers (default 2)
#   CONTRACT_ST_ARGS       extra schemathesis arguments, e.g. "--exclude-operation-id postWebhook" (PYTEST_ADDOPTS for pytest)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
root=$(pwd)
bin=${SHELF_BIN:-.build/debug/shelf}
spec=openapi/shelf.yaml
max_examples=${CONTRACT_MAX_EXAMPLES:-40}
seed=${CONTRACT_SEED:-20261123}
workers=${CONTRACT_WORKERS:-2}
read -r -a extra_st_args <<<"${CONTRACT_ST_ARGS:-}"

fail() { echo "contract: $*" >&2; echo "contract: 0 passed, 1 failed"; exit 1; }

[ -x "$bin" ] || fail "no server binary at $bin (run swift build first)"
[ -f "$spec" ] || fail "no $spec"
command -v schemathesis >/dev/null 2>&1 || python3 -c "import schemathesis" 2>/dev/null \
    || fail "schemathesis is not installed (make py-deps)"
if command -v schemathesis >/dev/null 2>&1; then st=(schemathesis); else st=(python3 -m schemathesis.cli); fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shelf-contract.XXXXXX")
server_pid=""
child_pid=""
# Runs a tool in the background and waits, so INT/TERM reach the trap at once (not after the tool finishes).
run() {
    "$@" &
    child_pid=$!
    wait "$child_pid"
    local status=$?
    child_pid=""
    return "$status"
}
cleanup() {
    if [ -n "$child_pid" ]; then kill "$child_pid" 2>/dev/null; wait "$child_pid" 2>/dev/null; fi
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
db="$tmp/shelf.sqlite"

token() { "$bin" token create --database "$db" --seller demo --scopes "$1" --label "contract $2"; }
fuzz_token=$(token read,ingest,admin fuzz) || fail "shelf token create failed"
# The fuzzer learns token ids from GET /v1/tokens and would revoke its own token; DELETE /v1/tokens/{id} only ever gets
# this spare token's id instead.
spare_token=$(token read spare) || fail "shelf token create failed"
spare_id=${spare_token#shelf_}
spare_id=${spare_id%%_*}
# The platform operator's routes are fuzzed with a platform token (the seller token would only ever get 403 there).
platform_token=$("$bin" token create --database "$db" --platform --label "contract fuzz platform") || fail "shelf token create failed"
cat >"$tmp/schemathesis.toml" <<EOF
[[operations]]
include-operation-id = "revokeToken"
parameters = { id = "$spare_id" }
EOF
for op in createSeller listSellers getSeller createSellerToken; do
    printf '[[operations]]\ninclude-operation-id = "%s"\nheaders = { Authorization = "Bearer %s" }\n' "$op" "$platform_token" >>"$tmp/schemathesis.toml"
done

"$bin" serve --host 127.0.0.1 --port "$port" --database "$db" --fixtures fixtures/demo >"$tmp/server.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$tmp/server.log" >&2
        fail "the server exited before it was ready"
    fi
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=1)' "$base" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { tail -50 "$tmp/server.log" >&2; fail "the server did not become ready on $base"; }
echo "contract: server ready on $base"

# 1. Schemathesis: every operation, examples + coverage + fuzzing + stateful phases, bounded by --max-examples.
echo "contract: schemathesis $("${st[@]}" --version 2>/dev/null | awk '{print $NF}') against $spec (max-examples $max_examples, seed $seed)"
run "${st[@]}" --config-file "$tmp/schemathesis.toml" run "$spec" \
    --url "$base" \
    --header "Authorization: Bearer $fuzz_token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers "$workers" \
    --request-timeout 10 \
    --generation-database none \
    --suppress-health-check all \
    --no-color \
    --report junit --report-junit-path "$tmp/schemathesis.xml" \
    --exclude-operation-id streamEvents \
    "${extra_st_args[@]}"
st_status=$?

# 2. pytest suites, with tokens created after the fuzzer ran (it can list and revoke the seller's tokens).
SHELF_URL="$base" \
SHELF_READ_TOKEN=$(token read pytest-read) \
SHELF_INGEST_TOKEN=$(token ingest pytest-ingest) \
SHELF_ADMIN_TOKEN=$(token read,ingest,admin pytest-admin) \
SHELF_PLATFORM_TOKEN=$("$bin" token create --database "$db" --platform --label "contract platform") \
SHELF_OPENAPI="$root/$spec" \
    run python3 -m pytest -q -p no:cacheprovider --junitxml "$tmp/pytest.xml" scripts/contract
py_status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "contract: the server died during the run; last log lines:" >&2
    tail -50 "$tmp/server.log" >&2
    server_dead=1
else
    server_dead=0
fi
if grep -q -E '(Program crashed|Fatal error|Illegal instruction|Segmentation fault)' "$tmp/server.log"; then
    echo "contract: the server log shows a crash:" >&2
    grep -E -B2 -A5 '(Program crashed|Fatal error|Illegal instruction|Segmentation fault)' "$tmp/server.log" | head -40 >&2
    server_dead=1
fi

if [ "$server_dead" -eq 0 ] && { [ "$st_status" -ne 0 ] || [ "$py_status" -ne 0 ]; }; then
    echo "contract: last server log lines:" >&2
    tail -30 "$tmp/server.log" >&2
fi

# Totals from both JUnit reports; a tool that failed without reporting a failure counts as one failure.
python3 - "$tmp/schemathesis.xml" "$st_status" "$tmp/pytest.xml" "$py_status" "$server_dead" <<'EOF'
import sys
import xml.etree.ElementTree as ET

def count(path, status):
    passed = failed = 0
    try:
        for case in ET.parse(path).getroot().iter("testcase"):
            if case.find("skipped") is not None:
                continue
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            else:
                passed += 1
    except (OSError, ET.ParseError):
        pass
    if status != 0 and failed == 0:
        failed = 1
    return passed, failed

sp, sf = count(sys.argv[1], int(sys.argv[2]))
pp, pf = count(sys.argv[3], int(sys.argv[4]))
dead = int(sys.argv[5])
print(f"contract: schemathesis {sp} operations passed, {sf} failed; pytest {pp} passed, {pf} failed"
      + ("; the server crashed" if dead else ""))
print(f"contract: {sp + pp} passed, {sf + pf + dead} failed")
sys.exit(1 if sf + pf + dead else 0)
EOF
