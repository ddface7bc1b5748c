#!/usr/bin/env bash
# Cluster benchmark: N `shelf serve` nodes on one PostgreSQL, in one run (issue #17). Starts its own throwaway PostgreSQL
# server (initdb + pg_ctl in a temporary directory, 127.0.0.1 on a free port, durable: fsync, synchronous_commit and
# full_page_writes on), stopped and removed at the end, also on Ctrl-C. The driver is drive.py (python3 stdlib). Prints a
# markdown table of:
#   read req/s       1 node vs 3 nodes (wrk on each node at once, summed) on GET /v1/offers/{sku}?qty=1, demo fixtures
#   durable ingest   events/s on PostgreSQL with 1 and PRODUCERS producers (shelf-bench-ledger ingest --database postgres://…)
#                    beside raw batched INSERTs on the same server
#   visibility       stock.received acknowledged by node A -> node B's GET /v1/stock/{sku} shows it, p50/p99
#   failover         kill -9 of the node running the push workers while stock changes keep arriving on another node, with
#                    shelf-sim as the channels: the gap until pushes resume, until every storefront shows the final value,
#                    and lost pushes
#
#   for p in shelf shelf-sim shelf-bench-ledger; do swift build -c release --scratch-path .build-release --product $p; done
#   BIN_DIR=.build-release/release Benchmarks/cluster/run.sh
#   DURATION=10s WARMUP=3s THREADS=2 CONNECTIONS=64   wrk settings (the defaults)
#   EVENTS=20000 PRODUCERS=64                         ingest
#   SAMPLES=300 RATE=20                               visibility samples and samples per second
#   WRITE_RATE=10 BEFORE_KILL=3 AFTER_KILL=8          failover: stock changes per second, seconds of them before/after the kill
#   BENCH_LEDGER_BEFORE=/path/shelf-bench-ledger      also the ingest of another build of it (a before/after in one run)
#   KEEP=1                                            keep the temporary directory (node and simulator logs)
#
# Targets: visibility p99 <= 50 ms; failover <= 5 s with no lost push; ingest >= 10,000 durable events/s with 64 producers.
# On a 2-core machine the nodes, wrk and PostgreSQL share the CPU: read scaling is reported, not expected to be 3x.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

require_binaries shelf shelf-sim shelf-bench-ledger
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null ||
    { echo "PostgreSQL's initdb is not installed (apt-get install postgresql)" >&2; exit 1; }

export SHELF_BIN="$BIN_DIR/shelf" SHELF_SIM_BIN="$BIN_DIR/shelf-sim" BENCH_LEDGER="$BIN_DIR/shelf-bench-ledger"
exec python3 "$BENCH_ROOT/Benchmarks/cluster/drive.py"
