"""Watches benchmark driver (python3 stdlib only), run by Benchmarks/watches/run.sh against a release `shelf serve`.

1. Imports SKUS SKUs (500 per request) for the demo seller.
2. Ingest without watches: EVENTS `stock.set` events over random SKUs, posted by WORKERS threads as fast as Shelf answers.
3. Creates WATCHES `stock_below 1` watches (judged on every event, never firing), ingests as in 2, deletes them; then
   creates WATCHES `any_change` watches (SKUS/WATCHES SKUs each, every SKU watched once) delivering to a receiver here.
4. Latency: RATE events/s for DURATION seconds; each one fires exactly one delivery; the receiver records arrival time minus
   the delivery's `changedAt` (the instant Shelf committed the change) — event -> delivery at the receiver.
5. Ingest with watches: step 2 again, every event now also fires a delivery.
Prints one table; goals: delivery p99 <= 100 ms, ingest with watches >= 0.9x without.
"""
import argparse
import asyncio
import http.client
import os
import re
import json
import multiprocessing
import random
import threading
import time
import uuid
from datetime import datetime, timezone


class Receiver:
    """A minimal HTTP/1.1 receiver on asyncio, in a process of its own (so it never competes with the load generator's
    threads for this interpreter's lock): reads each request's headers and body, answers 204, and records arrival time minus
    the body's `changedAt`. The parent asks it for its figures over a pipe."""

    CHANGED = re.compile(rb'"changedAt":"([^"]+)"')

    def __init__(self):
        self.pipe, child = multiprocessing.Pipe()
        ready = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=Receiver.main, args=(child, ready), daemon=True)
        self.process.start()
        self.port = ready.get(timeout=10)

    @staticmethod
    def main(pipe, ready):
        latencies = []  # (arrival wall time, seconds since changedAt)
        counts = {"count": 0, "bad": 0}
        lock = threading.Lock()

        async def connection(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    body = await reader.readexactly(length) if length else b""
                    now = time.time()
                    m = Receiver.CHANGED.search(body)
                    with lock:
                        if m:
                            changed = datetime.strptime(m[1].decode(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
                            counts["count"] += 1
                            latencies.append((now, now - changed))
                        else:
                            counts["bad"] += 1
                    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        def answer():
            while True:
                what, since = pipe.recv()
                with lock:
                    if what == "count":
                        pipe.send((counts["count"], counts["bad"]))
                    else:
                        pipe.send([lag for at, lag in latencies if at >= since])

        threading.Thread(target=answer, daemon=True).start()

        async def serve():
            server = await asyncio.start_server(connection, "127.0.0.1", 0)
            ready.put(server.sockets[0].getsockname()[1])
            async with server:
                await server.serve_forever()

        asyncio.run(serve())

    def counts(self):
        """(deliveries received, unreadable ones)."""
        self.pipe.send(("count", 0))
        return self.pipe.recv()

    def lags(self, since):
        """Seconds from commit to arrival of the deliveries that arrived at or after `since` (wall time)."""
        self.pipe.send(("lags", since))
        return self.pipe.recv()


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One keep-alive connection to Shelf."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        h = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")


def stock_event(sku, qty):
    return {"type": "stock.set", "sku": sku, "qty": qty, "location": "reno"}


def post_event(client, sku, qty):
    status, body = client.call("POST", "/v1/events", stock_event(sku, qty), {"Idempotency-Key": uuid.uuid4().hex})
    if status >= 300:
        raise RuntimeError(f"event refused: {status} {body[:200]!r}")


def ingest(port, token, skus, events, workers, rng):
    """Posts `events` events from `workers` threads as fast as they are answered; returns events/s."""
    plan = [(rng.choice(skus), rng.randint(1, 10_000)) for _ in range(events)]
    chunks = [plan[i::workers] for i in range(workers)]
    errors = []

    def run(chunk):
        client = Client(port, token)
        try:
            for sku, qty in chunk:
                post_event(client, sku, qty)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return events / elapsed


def paced(port, token, skus, rate, duration, workers):
    """RATE events/s for DURATION s over the SKUs in a shuffled round-robin; every event sets a new quantity, so each fires one
    delivery (two changes of one SKU close together may coalesce into one)."""
    total = int(rate * duration)
    order = [skus[i % len(skus)] for i in random.Random(7).sample(range(total), total)]
    interval = workers / rate
    sent = [0] * workers
    late = [0.0] * workers
    start = time.perf_counter() + 0.2

    def run(w):
        client = Client(port, token)
        for i in range(w, total, workers):
            due = start + (i // workers) * interval + (w / rate)
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            else:
                late[w] = max(late[w], now - due)
            post_event(client, order[i], 20_000 + i)  # unique: every event changes its SKU
            sent[w] += 1

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    achieved = sum(sent) / (time.perf_counter() - start)
    return sum(sent), achieved, max(late)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--watch-tokens", required=True, help="comma-separated read tokens, 100 watches each")
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--watches", type=int, default=1_000)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--pid", type=int, required=True, help="the shelf server's process id (its CPU time is read from /proc)")
    args = ap.parse_args()
    rng = random.Random(11)
    admin = Client(args.port, args.admin)

    skus = [f"WB-{i:05d}" for i in range(args.skus)]
    for i in range(0, len(skus), 500):
        items = [{"sku": s, "productId": f"PWB-{s}", "title": f"Watched {s}", "price": {"amount": 1999, "currency": "USD"},
                  "levels": [{"location": "reno", "onHand": 5}]} for s in skus[i:i + 500]]
        status, body = admin.call("POST", "/v1/skus:import", {"items": items})
        assert status == 200, (status, body[:300])
    print(f"imported {len(skus)} SKUs", flush=True)

    cpu = cpu_seconds(args.pid)
    without = ingest(args.port, args.admin, skus, args.events, args.workers, rng)
    cpu_without = (cpu_seconds(args.pid) - cpu) / args.events * 1e6
    print(f"ingest without watches: {without:,.0f} events/s, shelf CPU {cpu_without:.0f} µs/event", flush=True)

    receiver = Receiver()
    rport = receiver.port
    tokens = args.watch_tokens.split(",")
    per_watch = len(skus) // args.watches

    def create_watches(conditions):
        ids = []
        for w in range(args.watches):
            client = Client(args.port, tokens[w // 100])
            body = {"skus": skus[w * per_watch:(w + 1) * per_watch], "conditions": conditions,
                    "target": {"url": f"http://127.0.0.1:{rport}/hook/{w}", "secret": "bench-secret-0123456789"}}
            status, text = client.call("POST", "/v1/watches", body)
            assert status == 201, (status, text[:300])
            ids.append((client, json.loads(text)["id"]))
        return ids

    # Watches that are judged on every event but never fire (the ingest events never set a quantity below 1).
    quiet = create_watches([{"type": "stock_below", "qty": 1}])
    cpu = cpu_seconds(args.pid)
    judged = ingest(args.port, args.admin, skus, args.events, args.workers, rng)
    cpu_judged = (cpu_seconds(args.pid) - cpu) / args.events * 1e6
    print(f"ingest with watches judged, none firing: {judged:,.0f} events/s, shelf CPU {cpu_judged:.0f} µs/event", flush=True)
    for client, watch_id in quiet:
        status, text = client.call("DELETE", f"/v1/watches/{watch_id}")
        assert status == 204, (status, text[:300])

    create_watches([{"type": "any_change"}])
    print(f"created {args.watches} any_change watches over {per_watch * args.watches} SKUs", flush=True)

    phase_start = time.time()
    sent, achieved, worst_late = paced(args.port, args.admin, skus, args.rate, args.duration, args.workers)
    quiet_since = time.time()
    last = -1
    while time.time() - quiet_since < 3 and time.time() - phase_start < args.duration + 60:
        n = receiver.counts()[0]
        if n != last:
            last, quiet_since = n, time.time()
        time.sleep(0.1)
    lags = [lag * 1000 for lag in receiver.lags(phase_start)]
    delivered, bad = receiver.counts()
    print(f"paced {sent} events at {achieved:,.0f}/s (target {args.rate:,.0f}; worst sender lateness {worst_late * 1000:.0f} ms); "
          f"{delivered} deliveries received", flush=True)

    time.sleep(1)
    cpu = cpu_seconds(args.pid)
    with_watches = ingest(args.port, args.admin, skus, args.events, args.workers, rng)
    # Deliveries still queued when the last event was answered are part of the cost: wait for them before reading the CPU.
    quiet_since, last = time.time(), -1
    while time.time() - quiet_since < 2:
        n = receiver.counts()[0]
        if n != last:
            last, quiet_since = n, time.time()
        time.sleep(0.1)
    cpu_with = (cpu_seconds(args.pid) - cpu) / args.events * 1e6
    print(f"ingest with watches: {with_watches:,.0f} events/s, shelf CPU {cpu_with:.0f} µs/event (deliveries included)", flush=True)

    p50, p99, mx = percentile(lags, 50), percentile(lags, 99), max(lags) if lags else float("nan")
    ratio = with_watches / without
    rows = [
        ("watches / SKUs watched", f"{args.watches:,} / {per_watch * args.watches:,}", ""),
        ("paced events (target rate)", f"{sent:,} at {achieved:,.0f}/s ({args.rate:,.0f}/s)", ""),
        ("deliveries received in the paced phase", f"{len(lags):,}", f"{sent:,} events (fewer only if changes coalesced)"),
        ("event -> delivery p50", f"{p50:.1f} ms", ""),
        ("event -> delivery p99", f"{p99:.1f} ms", "goal <= 100 ms " + ("MET" if p99 <= 100 else "NOT MET")),
        ("event -> delivery max", f"{mx:.1f} ms", ""),
        ("ingest without watches", f"{without:,.0f} events/s", f"{args.events:,} events, {args.workers} connections"),
        ("ingest with watches judged, none firing", f"{judged:,.0f} events/s",
         f"{judged / without:.2f}x without; 1,000 stock_below watches"),
        ("ingest with watches", f"{with_watches:,.0f} events/s", "every event fires a delivery (any_change)"),
        ("ratio with / without", f"{ratio:.2f}x", "goal >= 0.90x " + ("MET" if ratio >= 0.9 else "NOT MET")),
        ("shelf CPU per event without watches", f"{cpu_without:.0f} µs", "from /proc: ingest only"),
        ("shelf CPU per event, watches judged", f"{cpu_judged:.0f} µs", "ingest + judging, no delivery"),
        ("shelf CPU per event with watches", f"{cpu_with:.0f} µs", "ingest + judging + one signed delivery"),
        ("CPU ratio without / with", f"{cpu_without / cpu_with:.2f}x", "the throughput ratio if Shelf had the CPUs to itself"),
    ]
    if bad:
        rows.append(("unreadable deliveries", str(bad), ""))
    print(f"watches: rate={achieved:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f} ingest_without={without:.0f} ingest_with={with_watches:.0f} "
          f"ingest_judged={judged:.0f}")
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print()
    print(f"{'measure'.ljust(width)}  {'value'.ljust(vwidth)}  note")
    print(f"{'-' * width}  {'-' * vwidth}  {'-' * 30}")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value.ljust(vwidth)}  {note}")


if __name__ == "__main__":
    main()
