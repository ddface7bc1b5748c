"""Watches benchmark driver (python3 stdlib only), run by Benchmarks/watches/run.sh against a release `shelf serve`.

1. Imports SKUS SKUs (500 per request) for the demo seller.
2. Ingest without watches: EVENTS `stock.set` events over random SKUs, posted by WORKERS threads as fast as Shelf answers.
3. Creates WATCHES watches (`any_change`, SKUS/WATCHES SKUs each, every SKU watched once) delivering to a receiver here.
4. Latency: RATE events/s for DURATION seconds; each one fires exactly one delivery; the receiver records arrival time minus
   the delivery's `changedAt` (the instant Shelf committed the change) — event -> delivery at the receiver.
5. Ingest with watches: step 2 again, every event now also fires a delivery.
Prints one table; goals: delivery p99 <= 100 ms, ingest with watches >= 0.9x without.
"""
import argparse
import http.client
import json
import random
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []  # (arrival wall time, seconds since changedAt)
        self.count = 0
        self.bad = 0

    def serve(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time()
                try:
                    changed = datetime.strptime(json.loads(body)["changedAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
                    lag = now - changed.timestamp()
                    with receiver.lock:
                        receiver.count += 1
                        receiver.latencies.append((now, lag))
                except (ValueError, KeyError):
                    with receiver.lock:
                        receiver.bad += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]


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

    without = ingest(args.port, args.admin, skus, args.events, args.workers, rng)
    print(f"ingest without watches: {without:,.0f} events/s", flush=True)

    receiver = Receiver()
    rport = receiver.serve()
    tokens = args.watch_tokens.split(",")
    per_watch = len(skus) // args.watches
    for w in range(args.watches):
        client = Client(args.port, tokens[w // 100])
        body = {"skus": skus[w * per_watch:(w + 1) * per_watch], "conditions": [{"type": "any_change"}],
                "target": {"url": f"http://127.0.0.1:{rport}/hook/{w}", "secret": "bench-secret-0123456789"}}
        status, text = client.call("POST", "/v1/watches", body)
        assert status == 201, (status, text[:300])
    print(f"created {args.watches} watches over {per_watch * args.watches} SKUs", flush=True)

    phase_start = time.time()
    sent, achieved, worst_late = paced(args.port, args.admin, skus, args.rate, args.duration, args.workers)
    quiet_since = time.time()
    last = -1
    while time.time() - quiet_since < 3 and time.time() - phase_start < args.duration + 60:
        with receiver.lock:
            n = receiver.count
        if n != last:
            last, quiet_since = n, time.time()
        time.sleep(0.1)
    with receiver.lock:
        lags = [lag * 1000 for at, lag in receiver.latencies if at >= phase_start]
        delivered, bad = receiver.count, receiver.bad
    print(f"paced {sent} events at {achieved:,.0f}/s (target {args.rate:,.0f}; worst sender lateness {worst_late * 1000:.0f} ms); "
          f"{delivered} deliveries received", flush=True)

    with_watches = ingest(args.port, args.admin, skus, args.events, args.workers, rng)
    print(f"ingest with watches: {with_watches:,.0f} events/s", flush=True)

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
        ("ingest with watches", f"{with_watches:,.0f} events/s", "every event fires a delivery"),
        ("ratio with / without", f"{ratio:.2f}x", "goal >= 0.90x " + ("MET" if ratio >= 0.9 else "NOT MET")),
    ]
    if bad:
        rows.append(("unreadable deliveries", str(bad), ""))
    print(f"watches: rate={achieved:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f} ingest_without={without:.0f} ingest_with={with_watches:.0f}")
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print()
    print(f"{'measure'.ljust(width)}  {'value'.ljust(vwidth)}  note")
    print(f"{'-' * width}  {'-' * vwidth}  {'-' * 30}")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value.ljust(vwidth)}  {note}")


if __name__ == "__main__":
    main()
