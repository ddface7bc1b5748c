#!/usr/bin/env python3
"""Turns the logs `Benchmarks/run-all.sh` keeps into one markdown table of figures, references measured in the same run,
ratios and goals. Usage: summarize.py LOG_DIR > table.md. A figure whose log line is missing shows as "not measured"."""
import re
import sys
from pathlib import Path

logs = Path(sys.argv[1])


def text(name: str) -> str:
    p = logs / f"{name}.log"
    return p.read_text(errors="replace") if p.exists() else ""


rows = []


def row(measure, figure, reference="", ratio="", goal="", verdict=""):
    rows.append(f"| {measure} | {figure} | {reference} | {ratio} | {goal} | {verdict} |")


def met(ok: bool) -> str:
    return "met" if ok else "**missed**"


ingest = re.search(r"single-producer=(\d+) events/s concurrent\((\d+) producers\)=(\d+) events/s", text("ingest"))
if ingest:
    single, producers, concurrent = int(ingest[1]), ingest[2], int(ingest[3])
    row("ingest, durable events/s (FULL fsync)", f"{concurrent:,} ({producers} producers); {single:,} (1 producer)",
        goal="≥ 20,000", verdict=met(concurrent >= 20000))
else:
    row("ingest, durable events/s", "not measured")

scale = text("scale")
disk = re.search(r"\| disk per SKU \| ([\d,]+) B", scale)
cold = re.search(r"\| cold start, exec → /readyz 200 \| ([\d.]+) s", scale)
rss = re.search(r"\| RSS once ready \(peak\) \| ([\d.]+) GiB", scale)
apply = re.findall(r"\| apply, µs per event at ([\d,]+) SKUs \| ([\d.]+)", scale)
if disk:
    row("scale: disk per SKU", f"{disk[1]} B", goal="≤ 1,536 B", verdict=met(int(disk[1].replace(",", "")) <= 1536))
if cold:
    row("scale: cold start, exec → /readyz 200", f"{cold[1]} s", goal="≤ 10 s", verdict=met(float(cold[1]) <= 10))
if rss:
    row("scale: resident memory once ready", f"{rss[1]} GiB", goal="≤ 1.5 GiB", verdict=met(float(rss[1]) <= 1.5))
if len(apply) == 2:
    row("scale: apply, µs per event", f"{apply[0][1]} at {apply[0][0]} SKUs", f"{apply[1][1]} at {apply[1][0]} SKUs",
        f"{float(apply[0][1]) / float(apply[1][1]):.2f}×", "the same at both sizes")

load = re.search(r"load skus=(\d+) seconds=([\d.]+) skus/s=(\d+)", text("rebuild"))
rebuild = re.search(r"rebuild skus=(\d+) seconds=([\d.]+) peakRSS=(\d+)MiB", text("rebuild"))
if load:
    row(f"load {int(load[1]):,} SKUs through the ledger", f"{float(load[2]):.0f} s ({int(load[3]):,} SKUs/s)")
if rebuild:
    secs, rss = float(rebuild[2]), int(rebuild[3])
    row(f"cold start: snapshot rebuild of {int(rebuild[1]):,} SKUs", f"{secs:.1f} s", goal="≤ 10 s", verdict=met(secs <= 10))
    row("cold start: peak resident memory", f"{rss:,} MiB", goal="≤ 1.5 GB", verdict=met(rss * 1.048576 <= 1500))
else:
    row("cold start: snapshot rebuild", "not measured")

for feed in re.finditer(r"feed (\w+): (\d+) SKUs in ([\d.]+) s = ([\d,]+) SKUs/s, (\d+) MiB; RSS before (\d+) MiB, peak while streaming "
                        r"(\d+) MiB \(\+(-?\d+) MiB\)", text("feed")):
    row(f"feed {feed[1]}: streaming rate ({int(feed[2]):,} SKUs)", f"{feed[4]} SKUs/s", goal="memory flat",
        verdict=f"+{feed[8]} MiB over {feed[6]} MiB while streaming")

parse = re.search(r"wall clock per sentence: median ([\d.]+) µs, p99 ([\d.]+) µs", text("rules"))
if parse:
    row("rule parse time per sentence", f"median {parse[1]} µs, p99 {parse[2]} µs", goal="median ≤ 50 µs",
        verdict=met(float(parse[1]) <= 50))
else:
    row("rule parse time", "not measured")

read = text("read")
shelf = re.search(r"\| Shelf GET [^|]+\| ([\d,]+) \| ([\d.]+) ms \| ([\d.]+) ms \|", read)
nginx = re.search(r"\| nginx static [^|]+\| ([\d,]+) \| ([\d.]+) ms \| ([\d.]+) ms \|", read)
if shelf and nginx:
    s, n = int(shelf[1].replace(",", "")), int(nginx[1].replace(",", ""))
    row("offer reads, req/s (wrk, auth on)", f"{s:,}", f"nginx static file {n:,}", f"{s / n:.2f}×", "≥ 0.65×", met(s / n >= 0.65))
    row("offer reads, p99 latency", f"{shelf[3]} ms", f"nginx {nginx[3]} ms", "", "≤ 2 ms", met(float(shelf[3]) <= 2))
else:
    row("offer reads", "not measured")

prop = text("propagation")
target = re.search(r"target (\d+) events/s", prop)
sent = re.search(r"sent ([\d,]+) events", prop)
for label, pattern, goal, limit in (
    ("webhook → visible (GET shows it)", r"\| visible: probe[^|]*\| [\d,]+ \| ([\d.]+) \| ([\d.]+) \|", "p99 ≤ 5 ms", 5),
    ("webhook → pushed to a channel (final value)", r"\| push: final value[^|]*\| [\d,]+ \| ([\d.]+) \| ([\d.]+) \|", "p99 ≤ 50 ms", 50),
):
    m = re.search(pattern, prop)
    at = f" at {target[1]} events/s target" if target else ""
    if m:
        row(label + at, f"p50 {m[1]} ms, p99 {m[2]} ms", goal=goal, verdict=met(float(m[2]) <= limit))
    else:
        row(label, "not measured")
achieved = re.search(r"\*\*([\d,.]+) events/s achieved\*\*", prop)
if achieved:
    row("propagation load achieved", f"{achieved[1]} events/s", goal=f"{target[1]} events/s" if target else "")

for cal in re.finditer(r"calibration (\w+): shelf ECE=([\d.]+) Brier=([\d.]+) \| linear ECE=([\d.]+) Brier=([\d.]+) \| "
                       r"Brier better by (-?[\d.]+)%", text("calibration")):
    regime, ece, brier, lece, lbrier, gain = cal[1], float(cal[2]), float(cal[3]), float(cal[4]), float(cal[5]), float(cal[6])
    row(f"confidence calibration, {regime} stock (lagging channels)", f"ECE {ece:.3f}, Brier {brier:.4f}",
        f"linear freshnessScore: ECE {lece:.3f}, Brier {lbrier:.4f}", f"Brier {gain:.0f}% better",
        "ECE ≤ 0.03, Brier ≥ 30% better", met(ece <= 0.03 and gain >= 30))
if "calibration" not in "".join(rows):
    row("confidence calibration", "not measured")

watches = re.search(r"watches: rate=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) ingest_without=(\d+) ingest_with=(\d+)", text("watches"))
if watches:
    rate, p50, p99, without, with_ = float(watches[1]), float(watches[2]), float(watches[3]), int(watches[4]), int(watches[5])
    row(f"change → watch delivery at the receiver, 1,000 watches, {rate:,.0f} events/s", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        goal="p99 ≤ 100 ms", verdict=met(p99 <= 100))
    row("ingest with 1,000 watches firing, events/s", f"{with_:,}", f"without watches {without:,}", f"{with_ / without:.2f}×", "≥ 0.9×",
        met(with_ / without >= 0.9))
else:
    row("watch deliveries", "not measured")

cluster = re.search(r"cluster: reads1=(\d+) reads3=(\d+) ingest_single=(\d+) ingest_concurrent=(\d+) producers=(\d+) raw_same=(\d+) "
                    r"visibility_p50_ms=([\d.]+) visibility_p99_ms=([\d.]+) failover_first_push_s=(-?[\d.]+) lost=(\d+)", text("cluster"))
if cluster:
    one, three = int(cluster[1]), int(cluster[2])
    row("cluster: offer reads req/s, 3 nodes on one PostgreSQL", f"{three:,}", f"1 node {one:,}", f"{three / one:.2f}×",
        "reported (2 cores: CPU-bound)")
    conc, raw = int(cluster[4]), int(cluster[6])
    row(f"cluster: durable ingest on PostgreSQL, {cluster[5]} producers", f"{conc:,} events/s (1 producer {int(cluster[3]):,})",
        f"raw batched INSERT {raw:,} rows/s", f"{conc / raw:.2f}×", "≥ 10,000", met(conc >= 10000))
    row("cluster: write on node A → visible on node B", f"p50 {cluster[7]} ms, p99 {cluster[8]} ms", goal="p99 ≤ 50 ms",
        verdict=met(float(cluster[8]) <= 50))
    first, lost = float(cluster[9]), int(cluster[10])
    row("cluster: kill -9 of the push node → first push of a later change", "never" if first < 0 else f"{first:.2f} s",
        goal="≤ 5 s, no lost push", verdict=met(0 <= first <= 5 and lost == 0) + f" ({lost} lost)")
else:
    row("cluster (N nodes on one PostgreSQL)", "not measured")

print("| measure | figure | reference (same run) | ratio | goal | |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
