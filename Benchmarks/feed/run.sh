#!/usr/bin/env bash
# Feed streaming: a release `shelf serve` over a database of N SKUs (default: a fresh 1M-SKU database made with
# shelf-bench-ledger, or DATABASE=path to reuse one) streams the ACP JSON Lines feed and the Google Merchant TSV feed to curl.
# Prints SKUs/s, bytes, and the server's resident memory before, during (sampled every 50 ms) and after each feed, so
# "flat memory" is visible: the peak while streaming minus the resident size before it is what the feed cost.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
require_binaries shelf shelf-bench-ledger
work=$(mktemp -d)
server=""
trap 'stop_pid "$server"; rm -rf "$work"' EXIT

db=${DATABASE:-}
if [[ -z "$db" ]]; then
    db="$work/feed.sqlite"
    echo "loading ${BENCH_SKUS:-1000000} SKUs…"
    "$BIN_DIR/shelf-bench-ledger" load --skus "${BENCH_SKUS:-1000000}" --database "$db" >/dev/null
fi
port=$(free_port)
token=$("$BIN_DIR/shelf" token create --database "$db" --seller demo --scopes read --label feed-bench)
start=$SECONDS
"$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$port" --database "$db" --log-level warning >"$work/server.log" 2>&1 &
server=$!
wait_http "http://127.0.0.1:$port/readyz" 600
echo "server ready after $((SECONDS - start)) s"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

stream() {  # stream NAME PATH
    local name=$1 path=$2 before peak sampler
    before=$(rss_kib)
    ( peak=0; while kill -0 "$server" 2>/dev/null; do r=$(rss_kib); (( r > peak )) && peak=$r && echo "$peak" >"$work/peak"; sleep 0.05; done ) &
    sampler=$!
    local t0 t1
    t0=$(date +%s.%N)
    curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" -o "$work/$name.out"
    t1=$(date +%s.%N)
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    peak=$(cat "$work/peak" 2>/dev/null || echo "$before")
    local skus bytes
    if [[ $name == acp ]]; then
        skus=$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["product"]["variants"]) for l in open(sys.argv[1]) if l.strip()))' "$work/$name.out")
    else
        skus=$(( $(wc -l <"$work/$name.out") - 1 ))
    fi
    bytes=$(stat -c %s "$work/$name.out")
    python3 - "$name" "$skus" "$bytes" "$t0" "$t1" "$before" "$peak" "$(rss_kib)" <<'PY'
import sys
name, skus, size, t0, t1, before, peak, after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
secs = t1 - t0
print(f"feed {name}: {skus} SKUs in {secs:.1f} s = {skus / secs:,.0f} SKUs/s, {size / 2**20:.0f} MiB; "
      f"RSS before {before / 1024:.0f} MiB, peak while streaming {peak / 1024:.0f} MiB (+{(peak - before) / 1024:.0f} MiB), after {after / 1024:.0f} MiB")
PY
    rm -f "$work/$name.out" "$work/peak"
}

stream acp /v1/feed/acp
stream google "/v1/feed/google.tsv?country=US"
