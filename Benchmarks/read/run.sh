#!/usr/bin/env bash
# Read benchmark, every server side by side in one run, all driven by wrk with the same settings:
#   nginx            a static JSON file: the median-sized offer body Shelf answers (the machine's ceiling)
#   bare Hummingbird the same bytes from memory, no middleware (shelf-bench-bare: the framework's ceiling)
#   Shelf            GET /v1/offers/{sku}?qty=1, /v1/stock/{sku}, /v1/delivery/{sku}?qty=1 over the demo seller's SKUs
#                    (random SKU per request, full bearer auth and freshness), and GET /v1/offers/{sku}?qty=1 over a
#                    1M-SKU store with random keys (mostly cache misses)
# Prints a markdown table with req/s, p50, p99 and each Shelf figure as a ratio to nginx and to bare Hummingbird.
#
#   for p in shelf shelf-bench-bare shelf-bench-ledger; do swift build -c release --scratch-path .build-release --product $p; done
#   BIN_DIR=.build-release/release Benchmarks/read/run.sh       # defaults: THREADS=2 CONNECTIONS=64 DURATION=15s WARMUP=3s
#   MILLION_DB=/var/tmp/shelf-1m.sqlite ...   # keep (or reuse) the 1M-SKU database; it takes minutes to load
#   SKUS=0 ...                                # skip the 1M-SKU run (then shelf-bench-ledger is not needed)
#
# Targets: offer >= 0.65x nginx and >= 0.9x bare Hummingbird with p99 <= 2 ms at 64 connections; 1M random keys >= 0.5x nginx.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
SKUS=${SKUS:-1000000}
KEEP=${KEEP:-0}   # KEEP=1 leaves the temp directory (logs, configs) in place

require_binaries shelf shelf-bench-bare
if [[ "$SKUS" != 0 ]]; then require_binaries shelf-bench-ledger; fi
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shelf-bench-read.XXXXXX)
SHELF_PID=""
NGINX_PID=""
BARE_PID=""
cleanup() {
    stop_pid "$SHELF_PID"
    stop_pid "$NGINX_PID"
    stop_pid "$BARE_PID"
    if [[ "$KEEP" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_average() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(load_average)" >"$WORK/load.txt"

# The demo seller with quiet channel connections (pushes off, polled daily at the closed port 9): the figures are reads.
quiet_demo_fixtures "$WORK/fixtures" 9

# start_shelf DATABASE [serve options...] — starts `shelf serve` on a free port, sets SHELF_PORT and TOKEN.
start_shelf() {
    local db=$1
    shift
    SHELF_PORT=$(free_port)
    TOKEN=$("$BIN_DIR/shelf" token create --database "$db" --seller demo --scopes read --label bench-read)
    SHELF_LOG_LEVEL=warning "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$SHELF_PORT" --database "$db" "$@" \
        >>"$WORK/shelf.log" 2>&1 &
    SHELF_PID=$!
    wait_http "http://127.0.0.1:$SHELF_PORT/readyz" 900
}

start_shelf "$WORK/shelf.sqlite" --fixtures "$WORK/fixtures"

# Every SKU's offer body once; the static file is the body with the median size (offer sizes differ a little by SKU).
mkdir -p "$WORK/www"
python3 - "$BENCH_ROOT/fixtures/demo/catalog.jsonl" "$SHELF_PORT" "$TOKEN" "$WORK" <<'PY'
import json, sys, urllib.request
catalog, port, token, work = sys.argv[1:]
skus = [json.loads(line)["item"]["sku"] for line in open(catalog) if line.strip()]
bodies = []
for sku in skus:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/offers/{sku}?qty=1", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200, (sku, r.status)
        bodies.append(r.read())
sizes = sorted(len(b) for b in bodies)
median = sizes[len(sizes) // 2]
body = next(b for b in bodies if len(b) == median)
open(f"{work}/www/offer.json", "wb").write(body)
open(f"{work}/sizes.txt", "w").write(f"{min(sizes)} {median} {max(sizes)}\n")
open(f"{work}/demo-skus.txt", "w").write("\n".join(skus) + "\n")
PY

# The wrk scripts: a random SKU from a list file per request (read once per wrk thread), and one summary line of JSON.
report='
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"p50_us\":%d,\"p99_us\":%d," ..
    "\"p999_us\":%d,\"max_us\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
'
# shelf_script NAME SKU_FILE PREFIX SUFFIX — requests PREFIX .. sku .. SUFFIX with the bearer token.
shelf_script() {
    local name=$1 list=$2 prefix=$3 suffix=$4
    cat >"$WORK/$name.lua" <<LUA
local skus = {}
local auth = {["Authorization"] = "Bearer $TOKEN"}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args)
  for line in io.lines("$list") do skus[#skus + 1] = line end
  math.randomseed(os.time() * 1000 + (seed or 0))
end
request = function()
  return wrk.format("GET", "$prefix" .. skus[math.random(#skus)] .. "$suffix", auth)
end
$report
LUA
}
echo "$report" >"$WORK/static.lua"
shelf_script offer "$WORK/demo-skus.txt" /v1/offers/ "?qty=1"
shelf_script stock "$WORK/demo-skus.txt" /v1/stock/ ""
shelf_script delivery "$WORK/demo-skus.txt" /v1/delivery/ "?qty=1"
chmod 755 "$WORK" "$WORK/www"
chmod 644 "$WORK/www/offer.json"

NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
$( [[ $(id -u) == 0 ]] && echo "user root;" || true )
events { worker_connections 1024; }
http {
    access_log off;
    types { application/json json; }
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/www;
    }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" >"$WORK/nginx/logs/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT/offer.json" 10

BARE_PORT=$(free_port)
"$BIN_DIR/shelf-bench-bare" --port "$BARE_PORT" --file "$WORK/www/offer.json" >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
wait_http "http://127.0.0.1:$BARE_PORT/offer.json" 30
cmp -s <(curl -fsS "http://127.0.0.1:$BARE_PORT/offer.json") "$WORK/www/offer.json" || { echo "bare Hummingbird serves other bytes" >&2; exit 1; }

# measure NAME SCRIPT URL — a warm-up run, then the measured run; keeps wrk's output in $WORK/NAME.out.
measure() {
    local name=$1 script=$2 url=$3
    echo "measuring $name (warm-up $WARMUP, then $DURATION) ..." >&2
    timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --latency -s "$WORK/$script.lua" "$url" >/dev/null 2>&1
    timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/$script.lua" "$url" >"$WORK/$name.out" 2>&1
}
measure nginx static "http://127.0.0.1:$NGINX_PORT/offer.json"
measure bare static "http://127.0.0.1:$BARE_PORT/offer.json"
measure offer offer "http://127.0.0.1:$SHELF_PORT"
measure stock stock "http://127.0.0.1:$SHELF_PORT"
measure delivery delivery "http://127.0.0.1:$SHELF_PORT"
kill -0 "$SHELF_PID" 2>/dev/null || { echo "shelf exited during the run; log: $WORK/shelf.log" >&2; KEEP=1; exit 1; }
stop_pid "$SHELF_PID"
SHELF_PID=""

if [[ "$SKUS" != 0 ]]; then
    db=${MILLION_DB:-$WORK/million.sqlite}
    if [[ ! -f "$db" ]]; then
        echo "loading $SKUS SKUs into $db (a few minutes) ..." >&2
        "$BIN_DIR/shelf-bench-ledger" load --skus "$SKUS" --database "$db" >"$WORK/million-load.log"
    fi
    # The load leaves every SKU in the outbox (an initial sync of 1M SKUs to six channels, which would run beside the reads):
    # this benchmark store's connections are set not to push, so the figure measures reads.
    python3 - "$db" "$WORK/million-skus.txt" <<'PY'
import sqlite3, sys
with sqlite3.connect(sys.argv[1]) as rw:
    rw.execute("UPDATE connections SET pushEnabled = 0")
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
with open(sys.argv[2], "w") as out:
    for (sku,) in db.execute("SELECT sku FROM skus WHERE seller = 'demo' AND active = 1"):
        out.write(sku + "\n")
PY
    echo "starting shelf over $(wc -l <"$WORK/million-skus.txt") SKUs ..." >&2
    start_shelf "$db"
    shelf_script million "$WORK/million-skus.txt" /v1/offers/ "?qty=1"
    measure million million "http://127.0.0.1:$SHELF_PORT"
    kill -0 "$SHELF_PID" 2>/dev/null || { echo "shelf exited during the run; log: $WORK/shelf.log" >&2; KEEP=1; exit 1; }
    echo "million: shelf resident memory $(awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$SHELF_PID/status")" >>"$WORK/load.txt"
fi
echo "load average after: $(load_average)" >>"$WORK/load.txt"

python3 - "$WORK" "$THREADS" "$CONNECTIONS" "$DURATION" "$SKUS" <<'PY'
import json, os, sys
work, threads, conns, duration, skus = sys.argv[1:]
def load(name):
    path = f"{work}/{name}.out"
    if not os.path.exists(path):
        return None
    for line in open(path):
        if line.startswith("WRKJSON "):
            d = json.loads(line[8:])
            d["rate"] = d["requests"] / (d["duration_us"] / 1e6)
            d["errors"] = d["connect"] + d["read"] + d["write"] + d["timeout"]
            return d
    sys.exit(f"no wrk summary in {path}:\n" + open(path).read())
nginx, bare = load("nginx"), load("bare")
lo, med, hi = open(f"{work}/sizes.txt").read().split()
ms = lambda us: f"{us / 1000:.2f} ms"
print(f"\nwrk -t{threads} -c{conns} -d{duration} --latency; offer bodies {lo}–{hi} B, static file {med} B (median); "
      f"{os.cpu_count()} cores")
print("".join(f"\n{line.strip()}" for line in open(f"{work}/load.txt")))
print("\n| server | req/s | p50 | p99 | p99.9 | × nginx | × bare Hummingbird | non-2xx | socket errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
rows = [("nginx static offer.json", "nginx"), ("bare Hummingbird, same bytes from memory", "bare"),
        ("Shelf GET /v1/offers/{sku}?qty=1", "offer"), ("Shelf GET /v1/stock/{sku}", "stock"),
        ("Shelf GET /v1/delivery/{sku}?qty=1", "delivery"),
        (f"Shelf GET /v1/offers/{{sku}}?qty=1, random keys over {int(skus):,} SKUs", "million")]
for label, name in rows:
    d = load(name)
    if d is None:
        continue
    print(f"| {label} | {d['rate']:,.0f} | {ms(d['p50_us'])} | {ms(d['p99_us'])} | {ms(d['p999_us'])} | "
          f"{d['rate'] / nginx['rate']:.2f}× | {d['rate'] / bare['rate']:.2f}× | {d['status']} | {d['errors']} |")
offer, million = load("offer"), load("million")
met = lambda ok: "met" if ok else "NOT met"
print(f"\nTargets: offer/nginx = {offer['rate'] / nginx['rate']:.2f}× (goal ≥ 0.65×: {met(offer['rate'] >= 0.65 * nginx['rate'])}); "
      f"offer/bare = {offer['rate'] / bare['rate']:.2f}× (goal ≥ 0.9×: {met(offer['rate'] >= 0.9 * bare['rate'])}); "
      f"offer p99 = {ms(offer['p99_us'])} (goal ≤ 2 ms: {met(offer['p99_us'] <= 2000)})"
      + (f"; 1M random/nginx = {million['rate'] / nginx['rate']:.2f}× (goal ≥ 0.5×: {met(million['rate'] >= 0.5 * nginx['rate'])})"
         if million else ""))
PY
