#!/usr/bin/env bash
# Calibration benchmark: is `confidence` a calibrated probability when channels report sales late? drive.py generates a
# held-out sale timeline (per SKU: stock, Poisson sales on 3 of 6 channels at 0.1–1.5 units/s in all, each channel
# reporting its orders after its own delay of 0.05–12 s, a restock when the true stock runs out), posts each order to
# `shelf serve` (release) as `POST /v1/events` with `occurredAt` in the past when the channel would report it, asks
# `GET /v1/offers/{sku}?qty=N` at random instants, and scores every answer against the timeline. Prints reliability bins,
# ECE and Brier for `confidence` and for the linear `freshnessScore`, in two regimes: plentiful stock, and low stock.
#
#   Benchmarks/calibration/run.sh                          # SKUS=40 DURATION=150 per regime, SEED=14
#   SKUS=20 DURATION=60 Benchmarks/calibration/run.sh       # quicker, noisier
#
# Goals reported against: ECE <= 0.03 in both regimes, Brier >= 30% better than the linear score in both.
# The channel connections are kept quiet (pushes off, polls daily at a closed port) so only the driver's events move time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SKUS=${SKUS:-40}
DURATION=${DURATION:-150}
SEED=${SEED:-14}
REGIMES=${REGIMES:-plentiful,low}
KEEP=${KEEP:-0}

require_binaries shelf
WORK=$(mktemp -d /tmp/shelf-bench-calib.XXXXXX)
SHELF_PID=""
cleanup() {
    stop_pid "$SHELF_PID"
    if [[ "$KEEP" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SHELF_PORT=$(free_port)
DEAD_PORT=$(free_port)
quiet_demo_fixtures "$WORK/fixtures" "$DEAD_PORT"

DB="$WORK/shelf.sqlite"
TOKEN=$("$BIN_DIR/shelf" token create --database "$DB" --seller demo --scopes read,ingest,admin --label bench-calibration)
SHELF_LOG_LEVEL=${SHELF_LOG_LEVEL:-error} "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$SHELF_PORT" --database "$DB" \
    --fixtures "$WORK/fixtures" >"$WORK/shelf.log" 2>&1 &
SHELF_PID=$!
wait_http "http://127.0.0.1:$SHELF_PORT/readyz" 60

echo "shelf :$SHELF_PORT; $SKUS SKUs per regime, ${DURATION}s per regime, seed $SEED" >&2
python3 "$(dirname "${BASH_SOURCE[0]}")/drive.py" --port "$SHELF_PORT" --token "$TOKEN" --skus "$SKUS" --duration "$DURATION" \
    --seed "$SEED" --regimes "$REGIMES"
