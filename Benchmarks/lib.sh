# Shared helpers for the Shelf benchmark scripts (sourced, not run). Loopback only; every wait is bounded.

# Repository root and release binaries (build them first: swift build -c release --product shelf --product shelf-sim).
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-$BENCH_ROOT/.build/release}"

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS — polls until URL answers 2xx, or fails after SECONDS.
wait_http() {
    local url=$1 limit=$2 start=$SECONDS
    while (( SECONDS - start < limit )); do
        curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out after ${limit}s waiting for $url" >&2
    return 1
}

# require_binaries NAME... — fails with a hint when a release binary is missing.
require_binaries() {
    local name
    for name in "$@"; do
        if [[ ! -x "$BIN_DIR/$name" ]]; then
            echo "missing $BIN_DIR/$name; run: swift build -c release --product shelf --product shelf-sim" >&2
            exit 1
        fi
    done
}

# stop_pid PID — TERM, wait up to 5 s, then KILL. Only ever called with ids this script started.
stop_pid() {
    local pid=$1 i
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

# quiet_demo_fixtures DIR DEAD_PORT — copies the demo fixtures to DIR with every channel connection quiet: pushes off, polled
# once a day, at 127.0.0.1:DEAD_PORT (a closed port), and without the simulator's own fixtures.
quiet_demo_fixtures() {
    local dir=$1 dead=$2
    cp -r "$BENCH_ROOT/fixtures/demo" "$dir"
    rm -rf "$dir/sim"
    python3 - "$dir" "$dead" <<'PY'
import json, re, sys
folder, dead = sys.argv[1:]
conns = json.load(open(f"{folder}/connections.json"))
for c in conns:
    c["baseURL"] = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{dead}", c["baseURL"])
    c["pushEnabled"] = False
    c["pollIntervalSeconds"] = 86400
json.dump(conns, open(f"{folder}/connections.json", "w"), indent=2)
PY
}
