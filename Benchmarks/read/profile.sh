#!/usr/bin/env bash
# CPU profile of `shelf serve` (release) answering GET /v1/offers/{sku}?qty=1 for random demo SKUs under wrk: perf samples the
# server for PROFILE seconds while wrk runs, then prints the hottest symbols (self time) and the inclusive time of the parts
# the read path is made of. Needs perf (linux-perf) and wrk.
#
#   BIN_DIR=.build-release/release Benchmarks/read/profile.sh     # defaults: CONNECTIONS=64 PROFILE=10
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CONNECTIONS=${CONNECTIONS:-64}
PROFILE=${PROFILE:-10}
TOP=${TOP:-40}
require_binaries shelf
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shelf-profile-read.XXXXXX)
SHELF_PID=""
WRK_PID=""
trap 'stop_pid "$WRK_PID"; stop_pid "$SHELF_PID"; rm -rf "$WORK"' EXIT

cp -r "$BENCH_ROOT/fixtures/demo" "$WORK/fixtures"
rm -rf "$WORK/fixtures/sim"
sed -i 's#http://127.0.0.1:9090/#http://127.0.0.1:9/#' "$WORK/fixtures/connections.json"
PORT=$(free_port)
DB="$WORK/shelf.sqlite"
TOKEN=$("$BIN_DIR/shelf" token create --database "$DB" --seller demo --scopes read --label profile-read)
SHELF_LOG_LEVEL=warning "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$PORT" --database "$DB" --fixtures "$WORK/fixtures" \
    >"$WORK/shelf.log" 2>&1 &
SHELF_PID=$!
wait_http "http://127.0.0.1:$PORT/readyz" 60

python3 - "$BENCH_ROOT/fixtures/demo/catalog.jsonl" "$TOKEN" "$WORK/offer.lua" <<'PY'
import json, sys
catalog, token, out = sys.argv[1:]
skus = ",".join(json.dumps(json.loads(line)["item"]["sku"]) for line in open(catalog) if line.strip())
open(out, "w").write(f'''
local skus = {{{skus}}}
local auth = {{["Authorization"] = "Bearer {token}"}}
request = function() return wrk.format("GET", "/v1/offers/" .. skus[math.random(#skus)] .. "?qty=1", auth) end
''')
PY

timeout $((PROFILE + 30)) wrk -t2 -c"$CONNECTIONS" -d$((PROFILE + 4))s -s "$WORK/offer.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk.out" 2>&1 &
WRK_PID=$!
sleep 2
perf record -F 999 -g -p "$SHELF_PID" -o "$WORK/perf.data" -- sleep "$PROFILE" >/dev/null 2>&1
wait "$WRK_PID" || true
WRK_PID=""
grep -E "Requests/sec|Latency" "$WORK/wrk.out" || true
echo
echo "## where the samples are (by binary or library)"
perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | sed -E 's/^[[:space:]]+//' | head -12
echo
echo "## hottest symbols (self)"
# perf pads each line to the terminal width; keep the share and the symbol.
trim() { sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/^[[:space:]]+//' | cut -c1-160; }
perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | trim | head -"$TOP"
echo
echo "## inclusive time of the read path's parts"
perf report -i "$WORK/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | trim \
    | grep -E 'ReadController|RequireScope|TokenStore|ReadCaches|OfferBuilder|OfferTemplate|OfferJSON|DeliveryPlanner|SalesVelocity|JSONResponder|RequestIDMiddleware|ShelfMetrics|swift_job_run|EventLoopTaskExecutor|SHA1|SHA256|malloc|swift_retain|swift_release' \
    | head -"$TOP"
