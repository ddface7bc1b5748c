#!/usr/bin/env bash
# Read benchmark: GET /v1/offers/{sku}?qty=1 on `shelf serve` (release) against nginx serving a static JSON file of the
# same size, both driven by wrk with the same settings in the same run. Prints a markdown table.
#
#   Benchmarks/read/run.sh                        # defaults: THREADS=2 CONNECTIONS=64 DURATION=15s WARMUP=3s
#   CONNECTIONS=128 DURATION=30s Benchmarks/read/run.sh
#
# Goal reported against: Shelf >= 0.65x nginx req/s and Shelf p99 <= 2 ms at 64 connections.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
KEEP=${KEEP:-0}   # KEEP=1 leaves the temp directory (logs, configs) in place

require_binaries shelf
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/shelf-bench-read.XXXXXX)
SHELF_PID=""
NGINX_PID=""
cleanup() {
    stop_pid "$SHELF_PID"
    stop_pid "$NGINX_PID"
    if [[ "$KEEP" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The demo seller, with its channel connections pointed at a closed port (9, discard) so the idle poller and propagator
# never touch anything else listening on this machine (the demo points at 127.0.0.1:9090).
cp -r "$BENCH_ROOT/fixtures/demo" "$WORK/fixtures"
rm -rf "$WORK/fixtures/sim"
sed -i 's#http://127.0.0.1:9090/#http://127.0.0.1:9/#' "$WORK/fixtures/connections.json"

SHELF_PORT=$(free_port)
DB="$WORK/shelf.sqlite"
TOKEN=$("$BIN_DIR/shelf" token create --database "$DB" --seller demo --scopes read --label bench-read)
SHELF_LOG_LEVEL=warning "$BIN_DIR/shelf" serve --host 127.0.0.1 --port "$SHELF_PORT" --database "$DB" \
    --fixtures "$WORK/fixtures" >"$WORK/shelf.log" 2>&1 &
SHELF_PID=$!
wait_http "http://127.0.0.1:$SHELF_PORT/readyz" 60

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
lua_skus = ",".join(json.dumps(s) for s in skus)
report = '''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d," ..
    "\\"p999_us\\":%d,\\"max_us\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
'''
open(f"{work}/shelf.lua", "w").write(f'''
local skus = {{{lua_skus}}}
local auth = {{["Authorization"] = "Bearer {token}"}}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 1000 + (seed or 0)) end
request = function()
  return wrk.format("GET", "/v1/offers/" .. skus[math.random(#skus)] .. "?qty=1", auth)
end
''' + report)
open(f"{work}/nginx.lua", "w").write(report)
PY
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

# run_wrk NAME URL DURATION — runs wrk (bounded by `timeout`), keeps its output in $WORK/NAME.out.
run_wrk() {
    local name=$1 url=$2 duration=$3
    timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$WORK/$name.lua" "$url" >"$WORK/$name.out" 2>&1
}
echo "warming up ($WARMUP each) ..." >&2
run_wrk shelf "http://127.0.0.1:$SHELF_PORT" "$WARMUP"
run_wrk nginx "http://127.0.0.1:$NGINX_PORT/offer.json" "$WARMUP"
echo "measuring shelf ($DURATION) ..." >&2
run_wrk shelf "http://127.0.0.1:$SHELF_PORT" "$DURATION"
echo "measuring nginx ($DURATION) ..." >&2
run_wrk nginx "http://127.0.0.1:$NGINX_PORT/offer.json" "$DURATION"
kill -0 "$SHELF_PID" 2>/dev/null || { echo "shelf exited during the run; log: $WORK/shelf.log" >&2; KEEP=1; exit 1; }

python3 - "$WORK" "$THREADS" "$CONNECTIONS" "$DURATION" <<'PY'
import json, sys
work, threads, conns, duration = sys.argv[1:]
def load(name):
    for line in open(f"{work}/{name}.out"):
        if line.startswith("WRKJSON "):
            d = json.loads(line[8:])
            d["rate"] = d["requests"] / (d["duration_us"] / 1e6)
            d["errors"] = d["connect"] + d["read"] + d["write"] + d["timeout"]
            return d
    sys.exit(f"no wrk summary in {work}/{name}.out:\n" + open(f"{work}/{name}.out").read())
s, n = load("shelf"), load("nginx")
lo, med, hi = open(f"{work}/sizes.txt").read().split()
ms = lambda us: f"{us / 1000:.2f} ms"
print(f"\nwrk -t{threads} -c{conns} -d{duration} --latency; offer bodies {lo}–{hi} B, static file {med} B (median)\n")
print("| server | req/s | p50 | p99 | p99.9 | non-2xx | socket errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, d in (("Shelf GET /v1/offers/{sku}?qty=1", s), ("nginx static offer.json", n)):
    print(f"| {name} | {d['rate']:,.0f} | {ms(d['p50_us'])} | {ms(d['p99_us'])} | {ms(d['p999_us'])} | {d['status']} | {d['errors']} |")
ratio = s["rate"] / n["rate"]
print(f"\nShelf/nginx = {ratio:.2f}x (goal >= 0.65x: {'met' if ratio >= 0.65 else 'NOT met'}); "
      f"Shelf p99 = {ms(s['p99_us'])} (goal <= 2 ms: {'met' if s['p99_us'] <= 2000 else 'NOT met'})")
PY
