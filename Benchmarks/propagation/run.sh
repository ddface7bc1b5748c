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

echo "shelf :$SHELF_PORT, shelf-sim :$SIM_PORT, channel limits $CHANNEL_LIMITS; $RATE events/s for ${DURATION}s ..." >&2
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
shelf_cpu0=$(cpu_ticks "$SHELF_PID"); sim_cpu0=$(cpu_ticks "$SIM_PID")
set +e
timeout $(( DURATION + 400 )) python3 "$(dirname "${BASH_SOURCE[0]}")/drive.py" --sim-port "$SIM_PORT" --shelf-port "$SHELF_PORT" \
    --token "$TOKEN" --items "$WORK/sim/items.json" --rate "$RATE" --duration "$DURATION" --workers "$WORKERS" --quiet "$QUIET" \
    --json-out "$WORK/result.json" $( [[ "$DIRECT" == 1 ]] && echo --direct-shopify || true )
rc=$?
set -e
hz=$(getconf CLK_TCK)
echo "CPU seconds used while the driver ran (settle + load + drain): shelf $(( ($(cpu_ticks "$SHELF_PID") - shelf_cpu0) / hz )), " \
     "shelf-sim $(( ($(cpu_ticks "$SIM_PID") - sim_cpu0) / hz )); the driver's own figure is printed above; 2 cores shared"
alive="shelf $(kill -0 "$SHELF_PID" 2>/dev/null && echo up || echo EXITED), shelf-sim $(kill -0 "$SIM_PID" 2>/dev/null && echo up || echo EXITED)"
echo
echo "processes after the run: $alive; Shelf log lines at warning or above: $(grep -ciE 'warning|error|critical' "$WORK/shelf.log" || true)"
grep -iE 'warning|error|critical' "$WORK/shelf.log" | cut -c1-300 | sort | uniq -c | sort -rn | head -5 || true
if [[ $rc != 0 ]]; then KEEP=1; echo "driver failed (rc=$rc); logs in $WORK" >&2; exit "$rc"; fi
