"""Duplicate storm: shelf-sim delivers signed order and cancel webhooks from all six channels, about 10% of them two to four
times, all shuffled (out of order). Shelf applies each order and each cancellation exactly once: the stock moves by exactly
the distinct orders' quantities and the ledger holds exactly one event per order line and per cancellation."""
import collections
import random
import time

from shelfproc import Stack, eventually, report

SKUS = ["TEE-RED-L", "MUG-RED-11OZ", "CAP-RED-OS", "SOCK-RED-S"]
ON_HAND = 500
ORDERS = 80
CANCELS = 20


def plenty(line):
    if line["item"]["sku"] in SKUS:
        for i, level in enumerate(line["levels"]):
            level["level"].update(onHand=ON_HAND if i == 0 else 0, safetyStock=0, unavailable=0, committed=0, reserved=0)


def with_duplicates(rng, webhooks):
    """Marks ~10% of the webhooks to be delivered 2-4 times; returns the number of extra deliveries."""
    extra = 0
    for w in rng.sample(webhooks, max(1, len(webhooks) // 10)):
        w["duplicates"] = rng.randint(1, 3)
        extra += w["duplicates"]
    return extra


def test_duplicated_and_shuffled_webhooks_have_exactly_one_effect():
    rng = random.Random(4242)
    with Stack(keep_skus=set(SKUS), catalog_patch=plenty, prefix="shelf-dups-") as stack:
        shelf, sim = stack.shelf, stack.sim
        connections = sorted(sim.connections())
        external = {c: {item["sku"]: ext for ext, item in sim.items(c).items()} for c in connections}
        before = {sku: stack.stock(sku)["total"] for sku in SKUS}
        head = stack.sql("SELECT MAX(sequence) FROM events")[0][0]

        orders = []
        for i in range(ORDERS):
            c, sku, qty = rng.choice(connections), rng.choice(SKUS), rng.randint(1, 3)
            orders.append({"connection": c, "topic": "order", "orderId": str(810000 + i), "eventId": f"storm-order-{i}",
                           "lines": [{"sku": sku, "externalId": external[c][sku], "quantity": qty}]})
        # eBay and Etsy send no cancellation webhook (Shelf learns those cancellations by polling).
        cancellable = [o for o in orders if o["connection"] not in ("ebay-us", "etsy-shop")]
        cancels = [dict(o, topic="cancel", eventId=f"storm-cancel-{o['orderId']}") for o in rng.sample(cancellable, CANCELS)]
        extra_orders = with_duplicates(rng, orders)
        extra_cancels = with_duplicates(rng, cancels)

        retried = collections.Counter()

        def deliver(webhooks, seed):
            reply = sim.control("POST", "webhooks:batch", {"shuffle": True, "seed": seed, "webhooks": webhooks}, timeout=120)
            assert reply.status == 200, reply
            deliveries = reply.json["deliveries"]
            assert len(deliveries) == len(webhooks) + sum(w.get("duplicates", 0) for w in webhooks)
            # Shuffled: copies of one event do not all arrive together and in order.
            order = [(d["eventId"], d["copy"]) for d in deliveries]
            assert order != sorted(order, key=lambda e: (int(e[0].rsplit("-", 1)[1]), e[1]))
            # Shelf answers 503 when it cannot record a delivery now (e.g. the channel's order-detail budget is spent);
            # the channel retries it later, as real channels do. Anything else is a failure.
            by_event = {w["eventId"]: w for w in webhooks}
            pending = [d for d in deliveries if d["status"] != 200]
            for _ in range(15):
                assert all(d["status"] == 503 for d in pending), collections.Counter((d["connection"], d["status"]) for d in pending)
                if not pending:
                    break
                time.sleep(1.0)
                again = []
                for d in pending:
                    w = dict(by_event[d["eventId"]], duplicates=0)
                    retried[d["connection"]] += 1
                    again += sim.control("POST", f"connections/{w.pop('connection')}/webhooks", w).json["deliveries"]
                pending = [d for d in again if d["status"] != 200]
            assert not pending, pending
            return deliveries

        # All orders first (each duplicated copy shuffled among the others), then the cancellations, equally stormy.
        deliver(orders, 7)
        deliver(cancels, 11)
        # Duplicates again, after the fact: a channel retrying a day later changes nothing either.
        late = [dict(w, duplicates=0) for w in rng.sample(orders, 8) + rng.sample(cancels, 4)]
        deliver(late, 13)

        ordered = collections.Counter()
        cancelled = collections.Counter()
        for o in orders:
            ordered[o["lines"][0]["sku"]] += o["lines"][0]["quantity"]
        for c in cancels:
            cancelled[c["lines"][0]["sku"]] += c["lines"][0]["quantity"]

        for sku in SKUS:
            total = stack.stock(sku)["total"]
            assert total["committed"] - before[sku]["committed"] == ordered[sku] - cancelled[sku], (sku, total)
            assert total["available"] == before[sku]["available"] - ordered[sku] + cancelled[sku], (sku, total, before[sku])
            assert total["oversold"] == 0 and total["onHand"] == before[sku]["onHand"], (sku, total)
        counts = collections.Counter(
            (t, s) for t, s in stack.sql("SELECT type, sku FROM events WHERE sequence > ? AND type IN ('order.confirmed', 'order.cancelled')",
                                         (head,)))
        expected = collections.Counter()
        for o in orders:
            expected[("order.confirmed", o["lines"][0]["sku"])] += 1
        for c in cancels:
            expected[("order.cancelled", c["lines"][0]["sku"])] += 1
        assert counts == expected, (counts, expected)
        # One event per channel order id, never two.
        per_order = collections.Counter(stack.sql(
            "SELECT type || ':' || json_extract(body, '$.orderId') || ':' || source FROM events WHERE sequence > ? "
            "AND type IN ('order.confirmed', 'order.cancelled')", (head,)))
        assert max(per_order.values()) == 1, per_order.most_common(3)

        # And the channels end up showing Shelf's final counts.
        def channels_show_final():
            for c in connections:
                items = sim.items(c)
                for sku in SKUS:
                    if items[external[c][sku]]["quantity"] != stack.published(sku)[c]:
                        return False
            return True

        eventually("every channel to display the final counts", channels_show_final, timeout=60, interval=0.2)
        report(f"duplicate storm: {ORDERS} orders + {CANCELS} cancels, {extra_orders + extra_cancels} duplicate deliveries "
               f"(+{len(late)} late repeats), shuffled; ledger events {sum(counts.values())} = distinct {sum(expected.values())}; "
               f"redelivered after a 503 (channel order-read budget spent): {dict(retried)}")
        assert shelf.alive() and not shelf.crashed()
