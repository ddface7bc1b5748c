#!/usr/bin/env bash
# Propagation benchmark: shelf-sim sends signed order webhooks to `shelf serve` (release) at a target rate; measures
# webhook -> visible and webhook -> push received by the simulated channels. The driver is drive.py (python3 stdlib).
#
#   Benchmarks/propagation/run.sh                     # RATE=2000 DURATION=30 WORKERS=96
#   RATE=500 DURATION=10 Benchmarks/propagation/run.sh
#   CHANNEL_LIMITS=real Benchmarks/propagation/run.sh  # keep the simulator's per-channel rate limits (Amazon 5 pushes/s ...)
#
# By default the benchmark copy of the simulator fixtures lifts the per-channel rate limits (rateLimitPerSecond/burst
# 1e6) so the figures measure Shelf rather than the simulated channels' budgets, and adds STOCK_BOOST units to each SKU's
# first location so 60k orders never exhaust stock (every event then changes the published quantity by one).
# Goals reported against: visible p99 <= 5 ms, push p99 <= 50 ms.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

RATE=${RATE:-2000}
DURATION=${DURATION:-30}
WORKERS=${WORKERS:-96}
CHANNEL_LIMITS=${CHANNEL_LIMITS:-lifted}
STOCK_BOOST=${STOCK_BOOST:-100000}
QUIET=${QUIET:-3}     # the run is drained when no push arrived for QUIET seconds (use ~35 with CHANNEL_LIMITS=real)
KEEP=${KEEP:-0}
DIRECT=${DIRECT:-0}   # DIRECT=1: diagnostic, python posts signed Shopify webhooks straight to Shelf (see drive.py)
PROFILE=${PROFILE:-0} # PROFILE=10: perf-samples Shelf for 10 s of the load (from 3 s in) and prints its hottest symbols

require_binaries shelf shelf-sim
WORK=$(mktemp -d /tmp/shelf-bench-prop.XXXXXX)
SIM_PID=""
SHELF_PID=""
cleanup() {
    stop_pid "$SHELF_PID"
    stop_pid "$SIM_PID"
    if [[ "$KEEP" == 1 ]]; then
        echo "kept $WORK (database $DB)" >&2
    else
        rm -rf "$WORK"
        [[ -n "${DB:-}" ]] && rm -f "$DB" "$DB-wal" "$DB-shm"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SHELF_PORT=$(free_port)
SIM_PORT=$(free_port)
cp -r "$BENCH_ROOT/fixtures/demo" "$WORK/fixtures"
mv "$WORK/fixtures/sim" "$WORK/sim"
python3 - "$WORK" "$SHELF_PORT" "$SIM_PORT" "$CHANNEL_LIMITS" "$STOCK_BOOST" <<'PY'
import json, sys
work, shelf_port, sim_port, limits, boost = sys.argv[1:]
conns = json.load(open(f"{work}/fixtures/connections.json"))
for c in conns:
    c["baseURL"] = c["baseURL"].replace("127.0.0.1:9090", f"127.0.0.1:{sim_port}")
json.dump(conns, open(f"{work}/fixtures/connections.json", "w"), indent=2)
sim = json.load(open(f"{work}/sim/connections.json"))
for c in sim:
    c["webhookURL"] = c["webhookURL"].replace("127.0.0.1:8080", f"127.0.0.1:{shelf_port}")
    if limits != "real":
        c["rateLimitPerSecond"], c["burst"] = 1e6, 1e6
json.dump(sim, open(f"{work}/sim/connections.json", "w"), indent=2)
lines = []
for line in open(f"{work}/fixtures/catalog.jsonl"):
    if line.strip():
        d = json.loads(line)
        if d.get("levels"):
            d["levels"][0]["level"]["onHand"] += int(boost)
        lines.append(json.dumps(d, sort_keys=True))
open(f"{work}/fixtures/catalog.jsonl", "w").write("\n".join(lines) + "\n")
PY

"$BIN_DIR/shelf-sim" --host 127.0.0.1 --port "$SIM_PORT" --fixtures "$WORK/sim" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
wait_http "http://127.0.0.1:$SIM_PORT/_sim/healthz" 30

# 0. The simulator alone: how many channel pushes per second it takes (wrk, Shopify inventorySetQuantities, one item per
# request, keep-alive), before Shelf is started. Shelf is offered RATE events/s and sends at most 6 pushes per event (fewer
# after coalescing): the simulator must take more than that or the figures below measure the simulator.
SIM_CAPACITY_SECONDS=${SIM_CAPACITY_SECONDS:-5}
if [[ "$SIM_CAPACITY_SECONDS" != 0 ]] && command -v wrk >/dev/null; then
    python3 - "$WORK/sim/items.json" "$WORK/sim-push.lua" <<'PY'
import json, sys
ids = [i["externalId"] for i in json.load(open(sys.argv[1])) if i["connection"] == "shopify-main"]
lua = """local ids = {%s}
local n = 0
request = function()
  n = n + 1
  local body = '{"query":"mutation ShelfSetQuantities($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }","variables":{"input":{"name":"available","reason":"correction","quantities":[{"inventoryItemId":"gid://shopify/InventoryItem/' .. ids[(n %% #ids) + 1] .. '","locationId":"gid://shopify/Location/1","quantity":' .. (100000 + n %% 1000) .. '}]}}}'
  return wrk.format("POST", "/c/shopify-main/admin/api/2025-10/graphql.json", {["Content-Type"] = "application/json"}, body)
end
""" % ", ".join('"%s"' % i for i in ids)
open(sys.argv[2], "w").write(lua)
PY
    capacity=$(wrk -t2 -c32 -d"${SIM_CAPACITY_SECONDS}s" -s "$WORK/sim-push.lua" "http://127.0.0.1:$SIM_PORT" 2>&1 | awk '/Requests\/sec/ {print $2}')
    echo "simulator alone: ${capacity:-?} pushes/s taken (wrk, 32 connections, ${SIM_CAPACITY_SECONDS}s); Shelf will be offered" \
         "$RATE events/s, at most $(( RATE * 6 )) pushes/s before coalescing" >&2
    # Back to the fixtures' quantities and an empty push log before Shelf starts.
    curl -sf -X POST "http://127.0.0.1:$SIM_PORT/_sim/reset" >/dev/null
fi

DB_DIR=${DB_DIR:-$WORK}   # e.g. DB_DIR=/dev/shm to see how much of the latency is fsync (diagnostic)
DB="$DB_DIR/shelf-bench-$$.sqlite"
TOKEN=$("$BIN_DIR/shelf" token create --database "$DB" --seller demo --scopes read,admin --label bench-propagation)
# With the simulated channels' limits lifted, Shelf's own pacing to the channels' published limits is lifted too (only their
# 429s would pace it); with CHANNEL_LIMITS=real Shelf paces itself to the published figures the simulator enforces.
PACING=$( [[ "$CHANNEL_LIMITS" == real ]] && echo published || echo unpaced )
SHELF_LOG_LEVEL=${SHELF_LOG_LEVEL:-warning} "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$SHELF_PORT" --database "$DB" \
    --fixtures "$WORK/fixtures" --push-pacing "$PACING" >"$WORK/shelf.log" 2>&1 &
SHELF_PID=$!
wait_http "http://127.0.0.1:$SHELF_PORT/readyz" 60

echo "shelf :$SHELF_PORT, shelf-sim :$SIM_PORT, channel limits $CHANNEL_LIMITS; $RATE events/s for ${DURATION}s;" \
     "load before: $(cut -d' ' -f1-3 /proc/loadavg) ..." >&2
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
shelf_cpu0=$(cpu_ticks "$SHELF_PID"); sim_cpu0=$(cpu_ticks "$SIM_PID")
PERF_PID=""
if [[ "$PROFILE" != 0 ]]; then
    command -v perf >/dev/null || { echo "PROFILE needs perf (linux-perf)" >&2; exit 1; }
    # The driver settles first (a few seconds of quiet), so start sampling once the load is under way.
    ( sleep $(( QUIET + 3 )); exec perf record -F 999 -g -p "$SHELF_PID" -o "$WORK/perf.data" -- sleep "$PROFILE" ) >/dev/null 2>&1 &
    PERF_PID=$!
fi
set +e
timeout $(( DURATION + 400 )) python3 "$(dirname "${BASH_SOURCE[0]}")/drive.py" --sim-port "$SIM_PORT" --shelf-port "$SHELF_PORT" \
    --token "$TOKEN" --items "$WORK/sim/items.json" --rate "$RATE" --duration "$DURATION" --workers "$WORKERS" --quiet "$QUIET" \
    --json-out "$WORK/result.json" $( [[ "$DIRECT" == 1 ]] && echo --direct-shopify || true )
rc=$?
set -e
hz=$(getconf CLK_TCK)
shelf_ticks=$(( $(cpu_ticks "$SHELF_PID") - shelf_cpu0 )); sim_ticks=$(( $(cpu_ticks "$SIM_PID") - sim_cpu0 ))
accepted=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ok'])" "$WORK/result.json" 2>/dev/null || echo 0)
echo "CPU while the driver ran (settle + load + drain): shelf $(awk -v t="$shelf_ticks" -v h="$hz" 'BEGIN{printf "%.1f", t/h}') s," \
     "shelf-sim $(awk -v t="$sim_ticks" -v h="$hz" 'BEGIN{printf "%.1f", t/h}') s; the driver's own figure is printed above; 2 cores shared"
echo "**Shelf CPU per accepted event (its pushes included): $(awk -v t="$shelf_ticks" -v h="$hz" -v n="$accepted" \
     'BEGIN{ if (n > 0) printf "%.0f", t/h*1e6/n; else printf "?" }') µs** over $accepted events"
echo "load average after the run (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
alive="shelf $(kill -0 "$SHELF_PID" 2>/dev/null && echo up || echo EXITED), shelf-sim $(kill -0 "$SIM_PID" 2>/dev/null && echo up || echo EXITED)"
echo
echo "processes after the run: $alive; Shelf log lines at warning or above: $(grep -ciE 'warning|error|critical' "$WORK/shelf.log" || true)"
grep -iE 'warning|error|critical' "$WORK/shelf.log" | cut -c1-300 | sort | uniq -c | sort -rn | head -5 || true
if [[ -n "$PERF_PID" ]]; then
    wait "$PERF_PID" || true
    set +o pipefail   # `head` closing a report pipe early is not a failure
    trim() { sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/^[[:space:]]+//' | cut -c1-170; }
    echo; echo "## Shelf's samples by library"
    perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | trim | head -12
    echo; echo "## hottest symbols (self)"
    perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | trim | head -40
    echo; echo "## inclusive (children), Shelf's own frames"
    perf report -i "$WORK/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | trim \
        | grep -E 'Shelf|Curl|curl_|sqlite3_step|fdatasync|JSON|Hummingbird|HMAC|SHA256' | head -60
    [[ "$KEEP" == 1 ]] && echo "(perf data kept in $WORK/perf.data)"
    set -o pipefail
fi
if [[ $rc != 0 ]]; then KEEP=1; echo "driver failed (rc=$rc); logs in $WORK" >&2; exit "$rc"; fi
