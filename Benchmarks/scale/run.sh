#!/usr/bin/env bash
# Scale: a store of SKUS SKUs (default 1M; 3 locations and 6 channel listings each, from the fixture generator), then
#   - disk: bytes per SKU of the SQLite file after a checkpoint, and the largest tables (dbstat);
#   - cold start: `shelf serve` (release) from exec to `/readyz` 200, and its RSS once ready, by a full rebuild (checkpoint
#     off), then with a snapshot checkpoint (its size and write time are printed: a second start writes it once ready);
#   - apply cost: µs per event on this store and on a SMALL one (default 10k), so the two can be compared.
# Prints a markdown table. Targets (issue "The data spine"): RSS ≤ 1.5 GB, cold start ≤ 10 s, ≤ 1.5 KB per SKU on disk,
# and the same apply cost at both sizes.
#
#   Benchmarks/scale/run.sh                    # SKUS=1000000 SMALL=10000 EVENTS=20000
#   SKUS=200000 Benchmarks/scale/run.sh        # quicker
#   DATABASE=/path/big.sqlite Benchmarks/scale/run.sh   # reuse a store built by an earlier run (KEEP=1 keeps it)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SKUS=${SKUS:-1000000}
SMALL=${SMALL:-10000}
EVENTS=${EVENTS:-20000}
KEEP=${KEEP:-0}

require_binaries shelf shelf-bench-ledger
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt-get install sqlite3)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shelf-bench-scale.XXXXXX)
SHELF_PID=""
cleanup() {
    stop_pid "$SHELF_PID"
    if [[ "$KEEP" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIG=${DATABASE:-$WORK/big.sqlite}
if [[ ! -f "$BIG" ]]; then
    echo "loading $SKUS SKUs into $BIG (minutes)…" >&2
    "$BIN_DIR/shelf-bench-ledger" load --skus "$SKUS" --database "$BIG" >&2
fi
SKUS=$(sqlite3 "$BIG" "SELECT COUNT(*) FROM skus")
sqlite3 "$BIG" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
# Pages in use (a store reused through a migration keeps its freed pages in the file until VACUUM).
DISK=$(sqlite3 "$BIG" "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size")
TABLES=$(sqlite3 "$BIG" "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 6" 2>/dev/null |
    awk -F'|' -v n="$SKUS" '{ printf "%s%s %.0f B", sep, $1, $2 / n; sep = ", " }')

# Cold start of the real server: exec → /readyz 200, then its resident memory. $1: --snapshot-checkpoint value; $2: log level.
# Sets COLD_S, RSS_KB, HWM_KB; leaves the server running (SHELF_PID) for the caller to stop.
start_shelf() {
    local port
    port=$(free_port)
    SHELF_URL="http://127.0.0.1:$port"
    START_NS=$(date +%s%N)
    SHELF_LOG_LEVEL=$2 "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$port" --database "$BIG" --snapshot-checkpoint "$1" \
        >"$WORK/shelf.log" 2>&1 &
    SHELF_PID=$!
    wait_http "$SHELF_URL/readyz" 300
    READY_NS=$(date +%s%N)
    sleep 1  # let the services that start after readiness settle before reading RSS
    RSS_KB=$(awk '/^VmRSS/ { print $2 }' "/proc/$SHELF_PID/status")
    HWM_KB=$(awk '/^VmHWM/ { print $2 }' "/proc/$SHELF_PID/status")
    COLD_S=$(python3 -c "print(f'{($READY_NS - $START_NS) / 1e9:.1f}')")
}

# 1. Full rebuild from the state rows (no checkpoint).
start_shelf off warning
stop_pid "$SHELF_PID"
SHELF_PID=""
read -r COLD_FULL RSS_FULL HWM_FULL <<<"$COLD_S $RSS_KB $HWM_KB"

# 2. A start that finds no checkpoint rebuilds, then writes one once ready (its log line gives bytes and seconds).
CHECKPOINT="$WORK/big.snapshot"
rm -f "$CHECKPOINT"
start_shelf "$CHECKPOINT" info
for _ in $(seq 1200); do grep -q "snapshot checkpoint written" "$WORK/shelf.log" && break; sleep 0.1; done
WRITTEN=$(grep -m1 "snapshot checkpoint written" "$WORK/shelf.log" || true)
[[ -n "$WRITTEN" ]] || { echo "no checkpoint was written:" >&2; tail -5 "$WORK/shelf.log" >&2; exit 1; }
sleep 1
RSS_WRITTEN=$(awk '/^VmRSS/ { print $2 }' "/proc/$SHELF_PID/status")
stop_pid "$SHELF_PID"
SHELF_PID=""
CKPT_SECONDS=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$WRITTEN")
CKPT_BYTES=$(stat -c %s "$CHECKPOINT")

# 3. A start from the checkpoint (caught up from the ledger after it).
start_shelf "$CHECKPOINT" info
grep -q "snapshot loaded from checkpoint" "$WORK/shelf.log" || { echo "the checkpoint was not used:" >&2; tail -5 "$WORK/shelf.log" >&2; exit 1; }
stop_pid "$SHELF_PID"
SHELF_PID=""
read -r COLD_CKPT RSS_CKPT HWM_CKPT <<<"$COLD_S $RSS_KB $HWM_KB"

# Apply cost on the big store and on a small one built the same way.
SMALL_DB="$WORK/small.sqlite"
"$BIN_DIR/shelf-bench-ledger" load --skus "$SMALL" --database "$SMALL_DB" >/dev/null
APPLY_BIG=$("$BIN_DIR/shelf-bench-ledger" apply --database "$BIG" --events "$EVENTS" | sed -n 's/.*us\/event=\([0-9.]*\).*/\1/p')
APPLY_SMALL=$("$BIN_DIR/shelf-bench-ledger" apply --database "$SMALL_DB" --events "$EVENTS" | sed -n 's/.*us\/event=\([0-9.]*\).*/\1/p')

python3 - "$SKUS" "$DISK" "$COLD_FULL" "$RSS_FULL" "$HWM_FULL" "$APPLY_BIG" "$APPLY_SMALL" "$SMALL" "$TABLES" \
    "$COLD_CKPT" "$RSS_CKPT" "$HWM_CKPT" "$CKPT_BYTES" "$CKPT_SECONDS" "$RSS_WRITTEN" <<'PY'
import sys
skus, disk, cold, rss, hwm, big, small, small_n, tables, cold_ckpt, rss_ckpt, hwm_ckpt, ckpt_bytes, ckpt_s, rss_written = sys.argv[1:]
skus, disk, rss, hwm = int(skus), int(disk), int(rss) * 1024, int(hwm) * 1024
rss_ckpt, hwm_ckpt, ckpt_bytes, rss_written = int(rss_ckpt) * 1024, int(hwm_ckpt) * 1024, int(ckpt_bytes), int(rss_written) * 1024
print(f"| scale ({skus:,} SKUs, 3 locations, 6 channels) | figure | target |")
print("|---|---|---|")
print(f"| disk per SKU | {disk / skus:,.0f} B ({disk / 2**30:.2f} GiB) | ≤ 1,536 B |")
print(f"| cold start, exec → /readyz 200, full rebuild | {cold} s | ≤ 10 s |")
print(f"| cold start, exec → /readyz 200, from a checkpoint | {cold_ckpt} s | ≤ 10 s |")
print(f"| RSS once ready (peak), full rebuild | {rss / 2**30:.2f} GiB, {rss / skus:,.0f} B per SKU ({hwm / 2**30:.2f} GiB) | ≤ 1.5 GiB |")
print(f"| RSS once ready (peak), from a checkpoint | {rss_ckpt / 2**30:.2f} GiB, {rss_ckpt / skus:,.0f} B per SKU ({hwm_ckpt / 2**30:.2f} GiB) | ≤ 1.5 GiB |")
print(f"| checkpoint file, write time (in the background, once ready) | {ckpt_bytes / 2**20:,.0f} MiB, {ckpt_bytes / skus:,.0f} B per SKU; {float(ckpt_s):.1f} s; RSS after it {rss_written / 2**30:.2f} GiB | |")
print(f"| apply, µs per event at {skus:,} SKUs | {float(big):.1f} | same as at {int(small_n):,} |")
print(f"| apply, µs per event at {int(small_n):,} SKUs | {float(small):.1f} | |")
print()
print(f"Largest tables, bytes per SKU: {tables}")
PY
