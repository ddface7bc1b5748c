"""Flash sale on the channels: the six demo storefronts (shelf-sim, real per-channel rate budgets) each sell only what they
last displayed (`POST /_sim/connections/{id}/sell` refuses beyond it). Buyers arrive on a fixed random schedule at three
times the stock. With Shelf, each sale reaches Shelf as the channel's signed order webhook and Shelf pushes the new count to
every storefront. The baseline is the status quo: the same storefronts, the same buyer schedule, no Shelf, and a sync that
polls the true stock every 15 minutes of the sale's timeline (t = 0, 900 s, ...) and sets every storefront to it.

Oversold units = units the storefronts sold beyond the stock. Both figures are printed and reported after the run."""
import concurrent.futures
import json
import math
import os
import random
import threading
import time

from shelfproc import Sim, Stack, eventually, free_port, report, stock_at_first_location

# SKU -> units in stock (one location, no safety stock, no channel buffers: every storefront displays exactly the stock).
STOCK = {"TEE-RED-M": 10, "HOOD-RED-S": 10, "SOCK-RED-M": 10}
DEMAND_FACTOR = 3
SALE_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 900.0
BUYER_THREADS = 24
# Slack in the bound on top of rate x latency: a sale already past the storefront's check when the stock runs out, and one
# push computed just before a sale commits that lands just after the storefront's own decrement (last writer wins).
BOUND_CONSTANT = 2


def buyer_schedule():
    """[(seconds into the sale, connection index 0-5, SKU)]: DEMAND_FACTOR x stock one-unit buyers per SKU, uniform in time."""
    rng = random.Random(20261123)
    buyers = [(rng.uniform(0, SALE_SECONDS), rng.randrange(6), sku) for sku, units in STOCK.items() for _ in range(DEMAND_FACTOR * units)]
    return sorted(buyers)


def run_sale(sim, storefronts, schedule, poll=None, results=None):
    """Fires the schedule at the simulator's sell endpoint from a pool of buyer threads; `poll(elapsed)` runs at every
    poll instant of the sale's timeline. Appends (sent ns, answered ns, connection, sku, status) to `results` as buyers
    are answered (so a poll sees the sales so far) and returns it."""
    results = [] if results is None else results
    lock = threading.Lock()
    next_index = [0]
    t0 = time.monotonic() + 0.2
    if poll:
        poll(0.0)

    def buyer():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(schedule):
                return
            at, c, sku = schedule[i]
            connection, external_ids = storefronts[c]
            delay = t0 + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic_ns()
            reply = sim.control("POST", f"connections/{connection}/sell", {"externalId": external_ids[sku], "quantity": 1})
            done = time.monotonic_ns()
            if reply.status == 200:
                assert all(d["status"] == 200 for d in reply.json["deliveries"]), reply.json
            with lock:
                results.append((sent, done, connection, sku, reply.status))

    polls = [k * POLL_INTERVAL_SECONDS for k in range(1, int(SALE_SECONDS // POLL_INTERVAL_SECONDS) + 1)]
    with concurrent.futures.ThreadPoolExecutor(BUYER_THREADS + 1) as pool:
        futures = [pool.submit(buyer) for _ in range(BUYER_THREADS)]
        for at in polls:  # none fall inside a sale shorter than the poll interval: that is the point
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            poll(at)
        for f in futures:
            f.result(timeout=SALE_SECONDS + 60)
    assert len(results) == len(schedule)
    assert {r[4] for r in results} <= {200, 409}, {r[4] for r in results}
    return results


def sold_per_sku(results):
    sold = {sku: 0 for sku in STOCK}
    for _, _, _, sku, status in results:
        sold[sku] += status == 200
    return sold


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def push_latencies(sim, results, displayed_before):
    """Per successful sale k of a SKU (by send time) and storefront c: seconds from the buyer's request until c displays a
    count reflecting it — the first push to c at or after the send whose quantity <= max(0, shown before - k), or 0 when c
    already showed such a count. Returns {connection: [latencies]} and the number of (sale, storefront) pairs never
    reflected."""
    latencies = {}
    missing = 0
    for sku in STOCK:
        sales = sorted(r[0] for r in results if r[3] == sku and r[4] == 200)
        for connection, before in displayed_before[sku].items():
            pushes = [(p["receivedAtNanos"], p["quantity"]) for p in sim.pushes(sku=sku, connection=connection) if p["quantity"] is not None]
            pushes.sort()
            for k, sent in enumerate(sales, start=1):
                target = max(0, before - k)
                prior = [q for at, q in pushes if at < sent]
                if prior and prior[-1] <= target:
                    latencies.setdefault(connection, []).append(0.0)
                    continue
                later = [at for at, q in pushes if at >= sent and q <= target]
                if later:
                    latencies.setdefault(connection, []).append((later[0] - sent) / 1e9)
                else:
                    missing += 1
    return latencies, missing


def test_flash_sale_on_the_channels_shelf_versus_15_minute_polling():
    schedule = buyer_schedule()
    with Stack(keep_skus=set(STOCK), catalog_patch=stock_at_first_location(STOCK), prefix="shelf-chsale-") as stack:
        shelf, sim = stack.shelf, stack.sim
        connections = sorted(sim.connections())
        assert len(connections) == 6, connections
        # (connection, {sku: externalId}) for the six storefronts.
        storefronts = []
        for connection in connections:
            by_sku = {item["sku"]: ext for ext, item in sim.items(connection).items() if item["sku"] in STOCK}
            assert set(by_sku) == set(STOCK), (connection, by_sku)
            storefronts.append((connection, by_sku))

        def in_sync():
            for connection, by_sku in storefronts:
                items = sim.items(connection)
                for sku, ext in by_sku.items():
                    if items[ext]["quantity"] != STOCK[sku]:
                        return False
            return stack.sql("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM deliveries) + (SELECT COUNT(*) FROM dlq)")[0][0] == 0

        # Before the sale every storefront shows the stock (Shelf's first pushes brought them in line).
        eventually("every storefront to display the stock before the sale", in_sync, timeout=60, interval=0.2)
        for sku, units in STOCK.items():
            assert set(stack.published(sku).values()) == {units}, sku
        displayed_before = {sku: {connection: STOCK[sku] for connection, _ in storefronts} for sku in STOCK}
        sim.control("DELETE", "pushes")

        # The sale, with Shelf propagating.
        shelf_results = run_sale(sim, storefronts, schedule)
        shelf_sold = sold_per_sku(shelf_results)

        # Every sale reached Shelf; when it settles, every storefront shows Shelf's count (0) and Shelf's own oversold
        # figure is the storefronts' excess.
        def settled():
            for connection, by_sku in storefronts:
                items = sim.items(connection)
                if any(items[ext]["quantity"] != 0 for ext in by_sku.values()):
                    return False
            return stack.sql("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM deliveries)")[0][0] == 0

        eventually("every storefront to show 0 after the sale", settled, timeout=60, interval=0.2)
        for sku, units in STOCK.items():
            total = stack.stock(sku)["total"]
            assert total["committed"] == shelf_sold[sku], (sku, total, shelf_sold[sku])
            assert total["oversold"] == max(0, shelf_sold[sku] - units), (sku, total, shelf_sold[sku])
            orders = stack.sql("SELECT COUNT(*) FROM events WHERE sku = ? AND type = 'order.confirmed' AND source LIKE 'webhook:%'", (sku,))[0][0]
            assert orders == shelf_sold[sku], (sku, orders, shelf_sold[sku])
        assert stack.sql("SELECT COUNT(*) FROM dlq")[0][0] == 0

        by_connection, missing = push_latencies(sim, shelf_results, displayed_before)
        assert missing == 0, f"{missing} (sale, storefront) pairs never saw a push reflecting the sale"
        latencies = [x for values in by_connection.values() for x in values]
        p50, p99, worst = percentile(latencies, 50), percentile(latencies, 99), max(latencies)
        per_connection = ", ".join(f"{c} {percentile(v, 99) * 1000:.0f}" for c, v in sorted(by_connection.items()))

        # The baseline: the same storefronts and buyers on a second simulator with no webhooks and no Shelf.
        baseline_dir = os.path.join(stack.work, "baseline-sim")
        os.makedirs(baseline_dir)
        with open(os.path.join(stack.sim_fixtures, "connections.json")) as f:
            sim_connections = json.load(f)
        for c in sim_connections:
            c.pop("webhookURL", None)
        with open(os.path.join(baseline_dir, "connections.json"), "w") as f:
            json.dump(sim_connections, f)
        with open(os.path.join(stack.sim_fixtures, "items.json")) as src, open(os.path.join(baseline_dir, "items.json"), "w") as dst:
            dst.write(src.read())
        baseline = Sim(stack.work, free_port(), baseline_dir, name="baseline-sim")
        try:
            baseline_results = []

            def poll(at):
                # The status-quo sync: read the true stock (what is left of it after the sales so far) and set every
                # storefront to it.
                for sku, units in STOCK.items():
                    remaining = max(0, units - sum(1 for r in list(baseline_results) if r[3] == sku and r[4] == 200))
                    for connection, by_sku in storefronts:
                        baseline.control("PUT", f"connections/{connection}/items/{by_sku[sku]}", {"sku": sku, "quantity": remaining})

            run_sale(baseline, storefronts, schedule, poll=poll, results=baseline_results)
            baseline_sold = sold_per_sku(baseline_results)
        finally:
            baseline.stop()

        shelf_oversold = {sku: max(0, shelf_sold[sku] - units) for sku, units in STOCK.items()}
        baseline_oversold = {sku: max(0, baseline_sold[sku] - units) for sku, units in STOCK.items()}
        rate = {sku: DEMAND_FACTOR * units / SALE_SECONDS for sku, units in STOCK.items()}
        # The bound: once the stock runs out, a storefront keeps selling until Shelf's push of 0 reaches it, i.e. for at
        # most the push latency; buyers of the SKU arrive at `rate` per second over all storefronts, so at most
        # ceil(rate x p99 latency) units are sold into the gap (p99 of every (sale, storefront) pair measured above), plus
        # BOUND_CONSTANT for the sales in flight at that instant and one stale push overtaking a storefront's own sale.
        bound = {sku: math.ceil(rate[sku] * p99) + BOUND_CONSTANT for sku in STOCK}

        demand = sum(DEMAND_FACTOR * units for units in STOCK.values())
        report(f"channel flash sale: {len(STOCK)} SKUs x {list(STOCK.values())} units, {demand} one-unit buyers over {SALE_SECONDS:.0f}s "
               f"on 6 storefronts ({sum(rate.values()):.1f} buyers/s)")
        report(f"  Shelf:    oversold {sum(shelf_oversold.values())} units {shelf_oversold}; sold {sum(shelf_sold.values())}; "
               f"sale->storefront push latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms "
               f"({len(latencies)} sale x storefront pairs); bound {sum(bound.values())} {bound}")
        throttled = {c: s["rateLimited"] for c, s in sim.control("GET", "stats").json["connections"].items() if s["rateLimited"]}
        report(f"  push latency p99 per storefront (ms): {per_connection}; pushes answered 429 by the channel: {throttled}")
        report(f"  baseline (poll every {POLL_INTERVAL_SECONDS / 60:.0f} min): oversold {sum(baseline_oversold.values())} units "
               f"{baseline_oversold}; sold {sum(baseline_sold.values())}")

        for sku in STOCK:
            assert shelf_oversold[sku] <= bound[sku], (sku, shelf_oversold, bound)
        assert sum(baseline_oversold.values()) >= 3 * max(1, sum(shelf_oversold.values())), (shelf_oversold, baseline_oversold)
        assert sum(baseline_oversold.values()) >= sum(STOCK.values()), baseline_oversold
        assert shelf.alive() and not shelf.crashed()
