#!/usr/bin/env bash
# Every benchmark in release mode; figures are printed, never asserted. Each benchmark's output is kept under
# bench-results/<timestamp>/ and summarized into one markdown table, bench-results/latest.md (the README shows it).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product shelf-bench-ledger
swift build -c release --product rules-parse-bench
swift build -c release --product shelf-sim
swift build -c release --product shelf
swift build -c release --product shelf-bench-bare
out="bench-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
run() {  # run NAME COMMAND... — shows the output and keeps it as $out/NAME.log
    local name=$1
    shift
    echo "## $name"
    "$@" 2>&1 | tee "$out/$name.log"
}
run ingest .build/release/shelf-bench-ledger ingest --events 40000 --producers 256
db=$(mktemp -d)/shelf-1m.sqlite
echo "(loading ${BENCH_SKUS:-1000000} SKUs takes a few minutes)"
run rebuild bash -c ".build/release/shelf-bench-ledger load --skus '${BENCH_SKUS:-1000000}' --database '$db' &&
                     .build/release/shelf-bench-ledger rebuild --database '$db'"
run scale env DATABASE="$db" bash Benchmarks/scale/run.sh
run feed env DATABASE="$db" bash Benchmarks/feed/run.sh
run read env MILLION_DB="$db" SKUS="${BENCH_SKUS:-1000000}" bash Benchmarks/read/run.sh
rm -rf "$(dirname "$db")"
run rules .build/release/rules-parse-bench
run propagation bash Benchmarks/propagation/run.sh
run calibration bash Benchmarks/calibration/run.sh
run watches bash Benchmarks/watches/run.sh
run cluster bash Benchmarks/cluster/run.sh
{
    echo "Benchmarks of $(git rev-parse --short HEAD) on $(nproc) cores, $(date -u +%Y-%m-%d), release builds:"
    echo
    python3 Benchmarks/summarize.py "$out"
} >"$out/table.md"
cp "$out/table.md" bench-results/latest.md
echo
cat bench-results/latest.md
