"""Cluster benchmark driver (run by Benchmarks/cluster/run.sh): N `shelf serve` nodes on one throwaway PostgreSQL server
with PostgreSQL's durable settings (fsync, synchronous_commit, full_page_writes on), in a temporary directory removed at the
end (also on Ctrl-C). Prints a markdown table of:

1. read req/s, 1 node vs 3 nodes (wrk on each node at once, summed), GET /v1/offers/{sku}?qty=1 over the demo fixtures;
2. durable ingest events/s on PostgreSQL (shelf-bench-ledger ingest --database postgres://..., 1 and P producers) beside raw
   batched INSERTs on the same server;
3. cross-node visibility: stock.received acknowledged by node A -> node B's GET /v1/stock/{sku} shows it (p50/p99);
4. failover: shelf-sim as the channels, kill -9 of the node that runs the push workers while stock changes keep arriving
   on a surviving node; the gap until pushes resume and until every storefront shows the final value, and lost pushes.

Python 3 standard library; reuses scripts/reliability/shelfproc.py (SHELF_BIN names the release shelf binary)."""
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "reliability"))
from shelfproc import PostgresCluster, Shelf, Sim, cluster_leader, create_token, eventually, free_port, make_fixtures  # noqa: E402

THREADS = int(os.environ.get("THREADS", "2"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "64"))
DURATION = os.environ.get("DURATION", "10s")
WARMUP = os.environ.get("WARMUP", "3s")
EVENTS = int(os.environ.get("EVENTS", "20000"))
PRODUCERS = int(os.environ.get("PRODUCERS", "64"))
SAMPLES = int(os.environ.get("SAMPLES", "300"))
RATE = float(os.environ.get("RATE", "20"))            # visibility samples per second
WRITE_RATE = float(os.environ.get("WRITE_RATE", "10"))  # stock changes per second during the failover
BEFORE_KILL = float(os.environ.get("BEFORE_KILL", "3"))
AFTER_KILL = float(os.environ.get("AFTER_KILL", "8"))
BENCH_LEDGER = os.environ["BENCH_LEDGER"]
INGEST = os.environ.get("INGEST", "1") != "0"         # INGEST=0 skips the ingest figure
BENCH_LEDGER_BEFORE = os.environ.get("BENCH_LEDGER_BEFORE")  # another shelf-bench-ledger build: its ingest too (before/after)
KEEP = os.environ.get("KEEP", "0") == "1"
VIS_SKU = "TEE-RED-M"
FAILOVER_SKU = "HOOD-RED-S"


def log(line):
    print(line, file=sys.stderr, flush=True)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Keepalive:
    """One persistent HTTP/1.1 connection to 127.0.0.1:port (a tight polling loop without a new TCP connection per call)."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def get(self, path):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path, headers=headers)
                reply = self.conn.getresponse()
                body = reply.read()
                return reply.status, json.loads(body) if body else None
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                if attempt:
                    raise


# ---------------------------------------------------------------- 1. reads

WRK_LUA = """
local skus = {}
local auth = {["Authorization"] = "Bearer TOKEN"}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args)
  for line in io.lines("LIST") do skus[#skus + 1] = line end
  math.randomseed(os.time() * 1000 + (seed or 0))
end
request = function()
  return wrk.format("GET", "/v1/offers/" .. skus[math.random(#skus)] .. "?qty=1", auth)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,\\"status\\":%d," ..
    "\\"errors\\":%d}\\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_all(work, nodes, duration):
    """wrk -tTHREADS -cCONNECTIONS on every node at once; the summaries, one per node."""
    procs = []
    for i, node in enumerate(nodes):
        out = open(os.path.join(work, f"wrk-{len(nodes)}-{i}-{duration}.out"), "w+")
        procs.append((subprocess.Popen(["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", "-s",
                                        os.path.join(work, "offer.lua"), node.base], stdout=out, stderr=subprocess.STDOUT), out))
    results = []
    for proc, out in procs:
        proc.wait(timeout=600)
        out.seek(0)
        text = out.read()
        line = next((l for l in text.splitlines() if l.startswith("WRKJSON ")), None)
        assert line, f"no wrk summary:\n{text}"
        d = json.loads(line[8:])
        d["rate"] = d["requests"] / (d["duration_us"] / 1e6)
        results.append(d)
    return results


def reads(work, nodes, token):
    skus = [json.loads(l)["item"]["sku"] for l in open(os.path.join(ROOT, "fixtures", "demo", "catalog.jsonl")) if l.strip()]
    with open(os.path.join(work, "skus.txt"), "w") as f:
        f.write("\n".join(skus) + "\n")
    for node in nodes:  # every SKU answers on every node before the load starts
        for sku in skus[:5]:
            assert node.call("GET", f"/v1/offers/{sku}?qty=1", token).status == 200, (node.port, sku)
    with open(os.path.join(work, "offer.lua"), "w") as f:
        f.write(WRK_LUA.replace("TOKEN", token).replace("LIST", os.path.join(work, "skus.txt")))
    log(f"reads on {len(nodes)} node(s): warm-up {WARMUP}, then {DURATION} ...")
    wrk_all(work, nodes, WARMUP)
    return wrk_all(work, nodes, DURATION)


# ---------------------------------------------------------------- 2. ingest

def ingest(pg, binary=BENCH_LEDGER):
    url = pg.create_database()
    log(f"ingest: {binary} ingest --database <fresh db> --events {EVENTS} --producers {PRODUCERS} ...")
    out = subprocess.run([binary, "ingest", "--database", url, "--events", str(EVENTS), "--producers", str(PRODUCERS)],
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout + out.stderr
    log(out.stdout.strip())
    m = re.search(r"single-producer=(\d+) events/s concurrent\((\d+) producers\)=(\d+) events/s avg-batch=([\d.]+) failed=(\d+)",
                  out.stdout)
    r = re.search(r"raw postgres batch=1 (\d+) rows/s \(ledger ([\d.]+)x\); batch=(\d+) (\d+) rows/s \(ledger ([\d.]+)x\); "
                  r"batch=100 (\d+) rows/s", out.stdout)
    assert m and r, out.stdout
    return {"single": int(m[1]), "producers": int(m[2]), "concurrent": int(m[3]), "batch": float(m[4]), "failed": int(m[5]),
            "raw1": int(r[1]), "ratio1": float(r[2]), "rawbatch": int(r[3]), "rawsame": int(r[4]), "ratiosame": float(r[5]),
            "raw100": int(r[6])}


# ---------------------------------------------------------------- 3. visibility

def visibility(a, b, token):
    """stock.received (qty 1, fresh Idempotency-Key) acknowledged by node a -> node b answers the new onHand."""
    poll = Keepalive(b.port, token)
    base = a.call("GET", f"/v1/stock/{VIS_SKU}", token).json["total"]["onHand"]
    writes, seen = [], []
    run = os.urandom(4).hex()
    log(f"visibility: {SAMPLES} writes on :{a.port}, polled on :{b.port}, {RATE:g}/s ...")
    for i in range(SAMPLES):
        started = time.perf_counter()
        reply = a.call("POST", "/v1/events", token, {"type": "stock.received", "sku": VIS_SKU, "qty": 1},
                       {"Idempotency-Key": f"vis-{run}-{i}"})
        acked = time.perf_counter()
        assert reply.status in (200, 202), reply
        expected = base + i + 1
        deadline = acked + 10
        while True:
            status, body = poll.get(f"/v1/stock/{VIS_SKU}")
            now = time.perf_counter()
            if status == 200 and body["total"]["onHand"] >= expected:
                break
            assert now < deadline, f"node {b.port} did not show onHand {expected} within 10 s"
        writes.append((acked - started) * 1000)
        seen.append((now - acked) * 1000)
        time.sleep(max(0.0, 1 / RATE - (time.perf_counter() - started)))
    return writes, seen


# ---------------------------------------------------------------- 4. failover

def failover(nodes, sim, token, work):
    first = eventually("one leader", lambda: [n for n in nodes if cluster_leader(n) == 1], timeout=30)
    assert len(first) == 1, [n.port for n in first]
    victim = first[0]
    survivors = [n for n in nodes if n is not victim]
    writer_node = survivors[0]
    stock = writer_node.call("GET", f"/v1/stock/{FAILOVER_SKU}", token).json
    targets = {c["connection"]: c["externalId"] for c in stock["channels"] if c.get("connection")}
    assert targets, stock

    # Poll every storefront's quantity of the SKU (one keep-alive connection to the simulator) until told to stop.
    seen = {c: [] for c in targets}  # connection -> [(t, quantity)] on every change
    stop = threading.Event()

    def watch():
        conn = Keepalive(sim.port)
        while not stop.is_set():
            for c, ext in targets.items():
                status, body = conn.get(f"/_sim/connections/{c}/items/{ext}")
                q = body.get("quantity") if status == 200 and body else None
                if q is not None and (not seen[c] or seen[c][-1][1] != q):
                    seen[c].append((time.monotonic(), q))
            time.sleep(0.01)

    # Steady writes on the surviving node: stock.received qty 1 each; after each acknowledgement, what Shelf publishes.
    writes = []  # (t acked, {connection: published quantity})
    run = os.urandom(4).hex()

    def write():
        poll = Keepalive(writer_node.port, token)
        i = 0
        t0 = time.monotonic()
        while time.monotonic() < t0 + BEFORE_KILL + AFTER_KILL:
            reply = writer_node.call("POST", "/v1/events", token, {"type": "stock.received", "sku": FAILOVER_SKU, "qty": 1},
                                     {"Idempotency-Key": f"fo-{run}-{i}"})
            assert reply.status in (200, 202), reply
            acked = time.monotonic()
            _, body = poll.get(f"/v1/stock/{FAILOVER_SKU}")
            writes.append((acked, {c["connection"]: c["publishedQuantity"] for c in body["channels"] if c.get("connection")}))
            i += 1
            time.sleep(max(0.0, t0 + i / WRITE_RATE - time.monotonic()))

    watcher = threading.Thread(target=watch, daemon=True)
    writer = threading.Thread(target=write, daemon=True)
    watcher.start()
    writer.start()
    time.sleep(BEFORE_KILL)
    log(f"failover: kill -9 of the leader :{victim.port} while {WRITE_RATE:g} stock changes/s arrive on :{writer_node.port} ...")
    killed_at = time.monotonic()
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(timeout=10)
    new_leader = eventually("a survivor to take over", lambda: [n for n in survivors if cluster_leader(n) == 1], timeout=30, interval=0.05)
    took_over = time.monotonic() - killed_at
    writer.join(timeout=AFTER_KILL + 60)
    assert not writer.is_alive()
    last_write = writes[-1][0]
    final = writer_node.call("GET", f"/v1/stock/{FAILOVER_SKU}", token).json
    published = {c["connection"]: c["publishedQuantity"] for c in final["channels"] if c.get("connection")}

    def in_sync():
        return all(seen[c] and seen[c][-1][1] == q for c, q in published.items())

    try:
        eventually("every storefront to show the final value", in_sync, timeout=60, interval=0.02)
        synced = True
    except AssertionError:
        synced = False
    synced_at = time.monotonic()
    stop.set()
    watcher.join(timeout=10)

    def shown(c, q, after):
        """When the storefront c first showed q or more at or after `after` (None: never)."""
        return next((t for t, v in seen[c] if t >= after and v >= q), None)

    # Each write's push latency: acknowledged -> every storefront shows at least what Shelf then published.
    latencies = []  # (acked, seconds or None)
    for acked, pub in writes:
        times = [shown(c, q, acked - 5) for c, q in pub.items()]
        latencies.append((acked, None if None in times else max(0.0, max(times) - acked)))
    post = [l for t, l in latencies if t > killed_at]
    pre = [l for t, l in latencies if t <= killed_at]
    # The first push of a change acknowledged after the kill: a storefront moving above what was published at the kill.
    at_kill = max((w for w in writes if w[0] <= killed_at), key=lambda w: w[0])[1]
    first_after = min((t for c in targets for t, v in seen[c] if t > killed_at and v > at_kill.get(c, 0)), default=None)
    lost = {c: (seen[c][-1][1] if seen[c] else None, q) for c, q in published.items() if not seen[c] or seen[c][-1][1] != q}
    return {
        "victim": victim.port, "new_leader": new_leader[0].port, "took_over": took_over,
        "first_push": None if first_after is None else first_after - killed_at,
        "synced_after_kill": synced_at - killed_at if synced else None,
        "synced_after_last": synced_at - last_write if synced else None,
        "post_max": None if None in post or not post else max(post), "post_p50": statistics.median([l for l in post if l is not None]) if post else None,
        "pre_p50": statistics.median([l for l in pre if l is not None]) if pre else None,
        "writes": len(writes), "post_writes": len(post), "connections": len(published), "lost": lost,
    }


# ---------------------------------------------------------------- main

def main():
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    load_before = open("/proc/loadavg").read().split()[:3]
    work = tempfile.mkdtemp(prefix="shelf-bench-cluster-")
    nodes, sim = [], None
    results = {}
    try:
        with PostgresCluster(durable=True) as pg:
            log(f"PostgreSQL (durable: fsync, synchronous_commit, full_page_writes on) in {pg.dir} on port {pg.port}")
            results["ingest"] = ingest(pg) if INGEST else None
            results["ingest_before"] = ingest(pg, BENCH_LEDGER_BEFORE) if INGEST and BENCH_LEDGER_BEFORE else None
            url = pg.create_database()
            ports = [free_port() for _ in range(3)]
            sim_port = free_port()
            fixtures, sim_fixtures = make_fixtures(work, ports[0], sim_port, push=True, sim_limits=(1e6, 1e6))
            sim = Sim(work, sim_port, sim_fixtures)
            nodes.append(Shelf(work, url, ports[0], fixtures=fixtures, name="node-0"))
            read_token = create_token(url, "read", label="bench-read")
            write_token = create_token(url, "read,ingest", label="bench-write")
            results["read1"] = reads(work, nodes, read_token)
            nodes += [Shelf(work, url, port, name=f"node-{i}") for i, port in list(enumerate(ports))[1:]]
            results["read3"] = reads(work, nodes, read_token)
            results["visibility"] = visibility(nodes[0], nodes[1], write_token)
            results["failover"] = failover(nodes, sim, write_token, work)
            for node in nodes:
                node.stop()
            sim.stop()
    except BaseException as error:
        for node in nodes:
            node.stop(signal.SIGKILL)
        if sim:
            sim.stop()
        if isinstance(error, KeyboardInterrupt) and not KEEP:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"failed; logs kept in {work}")
        raise
    load_after = open("/proc/loadavg").read().split()[:3]
    if KEEP:
        log(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    report(results, load_before, load_after)


def report(r, load_before, load_after):
    met = lambda ok: "met" if ok else "NOT met"
    one, three = r["read1"], r["read3"]
    one_rate = sum(d["rate"] for d in one)
    three_rate = sum(d["rate"] for d in three)
    ing = r["ingest"]
    vis_write, vis = r["visibility"]
    f = r["failover"]
    secs = lambda s: "—" if s is None else f"{s:.2f} s"
    print(f"\nCluster benchmark: shelf serve nodes on one PostgreSQL (durable: fsync, synchronous_commit, full_page_writes on), "
          f"{os.cpu_count()} cores, load average before {' '.join(load_before)}, after {' '.join(load_after)}\n")
    print("| figure | value | target |")
    print("|---|---:|---|")
    print(f"| read req/s, 1 node (wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}, GET /v1/offers/{{sku}}?qty=1) | {one_rate:,.0f} "
          f"(p99 {one[0]['p99_us'] / 1000:.2f} ms) | |")
    print(f"| read req/s, 3 nodes (wrk on each at once, summed) | {three_rate:,.0f} "
          f"({' + '.join(format(d['rate'], ',.0f') for d in three)}; p99 {max(d['p99_us'] for d in three) / 1000:.2f} ms) | |")
    print(f"| read scaling 3 nodes / 1 node | {three_rate / one_rate:.2f}× | reported (CPU-bound on {os.cpu_count()} cores) |")
    if ing is None:
        print("| durable ingest | not measured (INGEST=0) | |")
    else:
        ingest_rows(ing)
    if r.get("ingest_before"):
        b = r["ingest_before"]
        print(f"| durable ingest, {b['producers']} producers, BEFORE ({BENCH_LEDGER_BEFORE}) | {b['concurrent']:,} events/s "
              f"(avg batch {b['batch']:.1f}; 1 producer {b['single']:,}/s; raw multi-row INSERT of {b['rawbatch']} rows/commit: "
              f"{b['rawsame']:,}/s) | after / before: {ing['concurrent'] / b['concurrent']:.2f}× |")
    print_rest(r, vis_write, vis, f, one_rate, three_rate, secs, met)


def ingest_rows(ing):
    met = lambda ok: "met" if ok else "NOT met"
    print(f"| durable ingest, 1 producer | {ing['single']:,} events/s (raw INSERT, 1 row/commit: {ing['raw1']:,}/s; "
          f"{ing['ratio1']:.2f}×) | |")
    print(f"| durable ingest, {ing['producers']} producers | {ing['concurrent']:,} events/s (avg batch {ing['batch']:.1f}; raw "
          f"multi-row INSERT of {ing['rawbatch']} rows/commit: {ing['rawsame']:,}/s, ledger {ing['ratiosame']:.2f}×; "
          f"100 rows/commit: {ing['raw100']:,}/s; refused {ing['failed']}) | ≥ 10,000/s: {met(ing['concurrent'] >= 10000)} |")


def print_rest(r, vis_write, vis, f, one_rate, three_rate, secs, met):
    ing = r["ingest"] or {"single": 0, "concurrent": 0, "producers": PRODUCERS, "rawsame": 0}
    print(f"| cross-node visibility (write acked on A → B shows it), {len(vis)} samples | p50 {statistics.median(vis):.1f} ms, "
          f"p99 {percentile(vis, 99):.1f} ms, max {max(vis):.1f} ms (write p50 {statistics.median(vis_write):.1f} ms) | "
          f"p99 ≤ 50 ms: {met(percentile(vis, 99) <= 50)} |")
    print(f"| failover: kill -9 of the push node → another holds the lock | {secs(f['took_over'])} | |")
    print(f"| failover: kill -9 → first push of a post-kill change at the simulator | {secs(f['first_push'])} | ≤ 5 s: "
          f"{met(f['first_push'] is not None and f['first_push'] <= 5)} |")
    print(f"| failover: worst push latency of a change made after the kill ({f['post_writes']} changes, {WRITE_RATE:g}/s) | "
          f"{secs(f['post_max'])} (p50 {secs(f['post_p50'])}; before the kill p50 {secs(f['pre_p50'])}) | |")
    print(f"| failover: every storefront shows the final value | {secs(f['synced_after_last'])} after the last change, "
          f"{secs(f['synced_after_kill'])} after the kill (changes kept coming for {AFTER_KILL:g} s) | |")
    print(f"| failover: lost pushes ({f['connections']} connections, final storefront quantity ≠ published) | {len(f['lost'])}"
          f"{'' if not f['lost'] else ' ' + json.dumps(f['lost'], sort_keys=True)} | 0: {met(not f['lost'])} |")
    print(f"\ncluster: reads1={one_rate:.0f} reads3={three_rate:.0f} ingest_single={ing['single']} "
          f"ingest_concurrent={ing['concurrent']} producers={ing['producers']} raw_same={ing['rawsame']} "
          f"visibility_p50_ms={statistics.median(vis):.1f} visibility_p99_ms={percentile(vis, 99):.1f} "
          f"failover_first_push_s={-1 if f['first_push'] is None else f['first_push']:.2f} lost={len(f['lost'])}")
    print(f"\nReads: the nodes, wrk and PostgreSQL share {os.cpu_count()} cores, so the CPU is the limit: three nodes cannot "
          f"serve three times one node's reads here; the ratio shows the cost of the split, not the scaling on separate machines.")


if __name__ == "__main__":
    main()
