#!/usr/bin/env bash
# Watches benchmark: a release `shelf serve`, 10,000 SKUs, 1,000 `any_change` watches (10 SKUs each) delivering to a loopback
# receiver in drive.py (python3 stdlib). Measures event -> delivery at the receiver (arrival minus the delivery's `changedAt`,
# the instant Shelf committed the change) p50/p99 at RATE events/s, and ingest throughput (POST /v1/events from WORKERS
# keep-alive connections) with and without those watches.
#
#   Benchmarks/watches/run.sh                                # SKUS=10000 WATCHES=1000 RATE=500 DURATION=20 EVENTS=20000
#   RATE=200 DURATION=10 EVENTS=5000 Benchmarks/watches/run.sh
#
# Build first: swift build -c release --product shelf (or set BIN_DIR, e.g. BIN_DIR=.build-release/release).
# Goals reported against: delivery p99 <= 100 ms; ingest with watches >= 0.9x without. The receiver and the load generator
# run on the same machine as Shelf and share its CPUs: on a small machine their cost is part of the figures.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SKUS=${SKUS:-10000}
WATCHES=${WATCHES:-1000}
RATE=${RATE:-500}
DURATION=${DURATION:-20}
EVENTS=${EVENTS:-20000}
WORKERS=${WORKERS:-16}
KEEP=${KEEP:-0}

if [[ ! -x "$BIN_DIR/shelf" && -x "$BENCH_ROOT/.build-release/release/shelf" ]]; then BIN_DIR="$BENCH_ROOT/.build-release/release"; fi
require_binaries shelf
WORK=$(mktemp -d /tmp/shelf-bench-watches.XXXXXX)
SHELF_PID=""
cleanup() {
    stop_pid "$SHELF_PID"
    if [[ "$KEEP" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SHELF_PORT=$(free_port)
DEAD_PORT=$(free_port)
# Channel connections stay quiet (pushes off, polls daily at a closed port): the figures are ingest and watch deliveries.
quiet_demo_fixtures "$WORK/fixtures" "$DEAD_PORT"

DB="$WORK/shelf.sqlite"
ADMIN=$("$BIN_DIR/shelf" token create --database "$DB" --seller demo --scopes read,ingest,admin --label bench-watches)
# 100 watches per token: one read token per hundred watches.
READS=()
for _ in $(seq $(( (WATCHES + 99) / 100 ))); do
    READS+=("$("$BIN_DIR/shelf" token create --database "$DB" --seller demo --scopes read --label bench-watches)")
done
SHELF_LOG_LEVEL=${SHELF_LOG_LEVEL:-error} "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$SHELF_PORT" --database "$DB" \
    --fixtures "$WORK/fixtures" --log-level error >"$WORK/shelf.log" 2>&1 &
SHELF_PID=$!
wait_http "http://127.0.0.1:$SHELF_PORT/readyz" 60

echo "shelf :$SHELF_PORT ($BIN_DIR/shelf); $SKUS SKUs, $WATCHES watches, $RATE events/s for ${DURATION}s, $EVENTS events per ingest run" >&2
python3 "$(dirname "${BASH_SOURCE[0]}")/drive.py" --port "$SHELF_PORT" --admin "$ADMIN" --watch-tokens "$(IFS=,; echo "${READS[*]}")" \
    --skus "$SKUS" --watches "$WATCHES" --rate "$RATE" --duration "$DURATION" --events "$EVENTS" --workers "$WORKERS" --pid "$SHELF_PID"
