#!/usr/bin/env python3
"""Calibration benchmark driver (python3 stdlib only; started by run.sh, which owns the processes).

Generates a true sale timeline for every SKU (Poisson sales per channel, a channel-specific reporting delay per channel,
a restock when the true stock runs out), replays it against the real server in real time as `POST /v1/events` with each
order's `occurredAt` in the past (it is posted when the channel would report it), and at random instants asks
`GET /v1/offers/{sku}?qty=N`. Afterwards each answer is scored against the timeline: were N units really purchasable at
the instant of the question? Prints reliability bins, expected calibration error (ECE, 10 equal-width bins) and the Brier
score for Shelf's `confidence` and for the linear `freshnessScore` (taken as the prediction when the offer is purchasable,
0 otherwise). Only purchasable answers are scored (when Shelf says no, both predict 0 and the truth is 0: it never sees
fewer units than there are, because it only ever hears of sales late, never early).
"""
import argparse
import asyncio
import datetime
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "propagation"))
from drive import HTTP  # noqa: E402  (the shared keep-alive client)

CHANNELS = ["amazon", "ebay", "shopify", "walmart", "etsy", "tiktok"]


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def plan(regime, skus, duration, rng):
    """The held-out world: per channel a mean reporting delay, per SKU rates, stock, sales, restocks and question instants
    (seconds from the start)."""
    delays = {c: 10 ** rng.uniform(-1.3, 1.08) for c in CHANNELS}  # 0.05 … 12 s, log-uniform
    world = []
    for i in range(skus):
        total = rng.uniform(0.1, 1.5)
        chans = rng.sample(CHANNELS, 3)
        weights = [rng.random() + 0.2 for _ in chans]
        rates = {c: total * w / sum(weights) for c, w in zip(chans, weights)}
        stock0 = rng.randint(400, 1000) if regime == "plentiful" else rng.randint(3, 40)
        # Candidate sales per channel, merged in time; a sale happens only while true stock lasts.
        candidates = []
        for c, r in rates.items():
            t = rng.expovariate(r)
            while t < duration:
                candidates.append((t, c))
                t += rng.expovariate(r)
        candidates.sort()
        stock, sales, restocks, empty_until = stock0, [], [], -1.0
        for t, c in candidates:
            if t < empty_until:
                continue
            if stock == 0:
                continue
            stock -= 1
            delay = delays[c] * rng.lognormvariate(0, 0.35)
            sales.append((t, c, delay))
            if stock == 0:
                at = t + rng.uniform(0.5, 3.0)
                qty = rng.randint(400, 1000) if regime == "plentiful" else rng.randint(3, 40)
                restocks.append((at, qty))
                empty_until = at
                stock = qty
        world.append({"sku": f"CAL-{regime[:3].upper()}-{i:03d}", "rates": rates, "stock0": stock0, "sales": sales,
                      "restocks": restocks, "channels": chans})
    return delays, world


def true_stock(w, t):
    s = w["stock0"] + sum(q for at, q in w["restocks"] if at <= t)
    return s - sum(1 for at, _, _ in w["sales"] if at <= t)


def visible_stock(w, t):
    """What Shelf has heard of by t (restocks are posted at once, sales after their delay)."""
    s = w["stock0"] + sum(q for at, q in w["restocks"] if at <= t)
    return s - sum(1 for at, _, d in w["sales"] if at + d <= t)


async def run_regime(args, regime, rng):
    delays, world = plan(regime, args.skus, args.duration, rng)
    admin = HTTP(args.port, {"Authorization": f"Bearer {args.token}"})
    for w in world:
        body = {"productId": f"P-{w['sku']}", "title": w["sku"], "price": {"amount": 1000, "currency": "USD"},
                "levels": [{"location": "reno", "onHand": w["stock0"]}], "listings": [{"channel": c} for c in w["channels"]]}
        status, _ = await admin.request("PUT", f"/v1/skus/{w['sku']}", body)
        assert status == 200, f"PUT /v1/skus/{w['sku']} -> {status}"
    await admin.close()
    start = time.time() + 1.0
    # Every send: (wall instant, kind, payload).
    sends = []
    for w in world:
        for k, (t, c, d) in enumerate(w["sales"]):
            sends.append((start + t + d, "order", {"type": "order.confirmed", "sku": w["sku"], "qty": 1, "channel": c,
                                                   "location": "reno", "externalId": f"{w['sku']}-o{k}",
                                                   "occurredAt": rfc3339(start + t)}))
        for k, (t, q) in enumerate(w["restocks"]):
            sends.append((start + t, "restock", {"type": "stock.received", "sku": w["sku"], "qty": q, "location": "reno",
                                                 "externalId": f"{w['sku']}-r{k}", "occurredAt": rfc3339(start + t)}))
    sends.sort(key=lambda s: s[0])
    questions = []
    for w in world:
        t = args.warmup + rng.expovariate(args.ask_rate)
        while t < args.duration:
            questions.append((start + t, w))
            t += rng.expovariate(args.ask_rate)
    questions.sort(key=lambda q: q[0])
    answers = []
    late = []

    async def sender():
        pool = [HTTP(args.port, {"Authorization": f"Bearer {args.token}"}) for _ in range(8)]
        queue = asyncio.Queue()

        async def worker(h):
            while True:
                body = await queue.get()
                if body is None:
                    return
                status, _ = await h.request("POST", "/v1/events", body, headers={"Idempotency-Key": body["externalId"]})
                assert status == 202, f"POST /v1/events -> {status}"

        tasks = [asyncio.create_task(worker(h)) for h in pool]
        for at, _, body in sends:
            wait = at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            late.append(time.time() - at)
            await queue.put(body)
        for _ in pool:
            await queue.put(None)
        await asyncio.gather(*tasks)
        for h in pool:
            await h.close()

    async def asker():
        pool = [HTTP(args.port, {"Authorization": f"Bearer {args.token}"}) for _ in range(6)]
        idle = asyncio.Queue()
        for h in pool:
            idle.put_nowait(h)
        tasks = []

        async def ask(at, w):
            rel = at - start
            seen = visible_stock(w, rel)
            if seen < 1:
                return
            if regime == "plentiful":
                n = rng.randint(1, 10)
            else:
                n = rng.randint(1, seen)
            h = await idle.get()
            try:
                t0 = time.time()
                status, body = await h.request("GET", f"/v1/offers/{w['sku']}?qty={n}")
                t1 = time.time()
            finally:
                idle.put_nowait(h)
            assert status == 200, f"GET offer -> {status}"
            offer = json.loads(body)
            answers.append({"sku": w["sku"], "at": (t0 + t1) / 2 - start, "qty": n, "purchasable": offer["purchasable"],
                            "confidence": offer["confidence"], "linear": offer["freshness"]["freshnessScore"],
                            "available": offer["stock"]["available"]})

        for at, w in questions:
            wait = at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(ask(at, w)))
        await asyncio.gather(*tasks)
        for h in pool:
            await h.close()

    await asyncio.gather(sender(), asker())
    by_sku = {w["sku"]: w for w in world}
    scored = []
    for a in answers:
        if not a["purchasable"]:
            continue
        truth = 1 if true_stock(by_sku[a["sku"]], a["at"]) >= a["qty"] else 0
        scored.append((a["confidence"], a["linear"], truth))
    late.sort()
    return delays, world, answers, scored, late


def reliability(pairs, bins=10):
    rows = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in pairs if (lo <= p < hi) or (b == bins - 1 and p == 1.0)]
        if not inside:
            continue
        mp = sum(p for p, _ in inside) / len(inside)
        fy = sum(y for _, y in inside) / len(inside)
        ece += len(inside) / len(pairs) * abs(mp - fy)
        rows.append((lo, hi, len(inside), mp, fy))
    brier = sum((p - y) ** 2 for p, y in pairs) / len(pairs)
    return rows, ece, brier


def report(regime, delays, world, answers, scored, late):
    n = len(scored)
    events = sum(len(w["sales"]) for w in world)
    print(f"### regime {regime}: {len(world)} SKUs, {events} sales, "
          f"{sum(len(w['restocks']) for w in world)} restocks, {len(answers)} answers ({n} purchasable, scored)")
    print("channel mean reporting delays (s): " + ", ".join(f"{c} {d:.2f}" for c, d in sorted(delays.items(), key=lambda x: x[1])))
    if late:
        print(f"sender lateness: p50 {late[len(late) // 2] * 1000:.1f} ms, p99 {late[int(len(late) * 0.99)] * 1000:.1f} ms")
    if n == 0:
        print("no purchasable answers")
        return
    outcome = sum(y for _, _, y in scored) / n
    print(f"observed frequency of 'really purchasable': {outcome:.3f}")
    figures = {}
    for name, idx in (("shelf confidence", 0), ("linear freshnessScore", 1)):
        rows, ece, brier = reliability([(s[idx], s[2]) for s in scored])
        figures[name] = (ece, brier)
        print(f"{name}: reliability bins (predicted range | n | mean predicted | observed)")
        for lo, hi, cnt, mp, fy in rows:
            print(f"  [{lo:.1f}, {hi:.1f}{']' if hi == 1.0 else ')'} | {cnt:5d} | {mp:.3f} | {fy:.3f}")
    (e1, b1), (e2, b2) = figures["shelf confidence"], figures["linear freshnessScore"]
    gain = (1 - b1 / b2) * 100 if b2 > 0 else float("nan")
    print(f"calibration {regime}: shelf ECE={e1:.4f} Brier={b1:.4f} | linear ECE={e2:.4f} Brier={b2:.4f} | "
          f"Brier better by {gain:.1f}% (goals: ECE <= 0.03, Brier >= 30% better)")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--skus", type=int, default=40)
    ap.add_argument("--duration", type=float, default=150)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--ask-rate", type=float, default=0.5, help="questions per second per SKU")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--regimes", default="plentiful,low")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for regime in args.regimes.split(","):
        delays, world, answers, scored, late = await run_regime(args, regime, rng)
        report(regime, delays, world, answers, scored, late)
        print()


if __name__ == "__main__":
    asyncio.run(main())
