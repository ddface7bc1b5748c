#!/usr/bin/env bash
# Every benchmark in release mode; figures are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product shelf-bench-ledger
swift build -c release --product rules-parse-bench
swift build -c release --product shelf-sim
swift build -c release --product shelf
echo "## Ledger ingest"
.build/release/shelf-bench-ledger ingest --events 40000 --producers 256
echo "## Snapshot rebuild (1M SKUs; loading takes a few minutes)"
db=$(mktemp -d)/shelf-1m.sqlite
.build/release/shelf-bench-ledger load --skus "${BENCH_SKUS:-1000000}" --database "$db"
.build/release/shelf-bench-ledger rebuild --database "$db"
echo "## Feed streaming (same 1M SKUs)"
DATABASE="$db" bash Benchmarks/feed/run.sh
rm -rf "$(dirname "$db")"
echo "## Rule parsing"
.build/release/rules-parse-bench
echo "## Offer reads vs nginx"
bash Benchmarks/read/run.sh
echo "## Propagation"
bash Benchmarks/propagation/run.sh
