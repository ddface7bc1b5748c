"""Flash sale through Shelf: concurrent agents reserve and commit three times the stock of a few SKUs. Exactly the stock is
granted (0 oversold), every refusal is a 409 problem, and afterwards the ledger (SQLite read of the file, GET /v1/audit, a
replay with GET /v1/stock?at=) and the snapshot (GET /v1/stock, GET /v1/offers) agree."""
import collections
import concurrent.futures
import random
import threading
import time

from shelfproc import Stack, assert_problem, stock_at_first_location

# SKU -> units on hand, all at one location, no safety stock: available = on hand.
STOCK = {"TEE-RED-M": 17, "MUG-RED-11OZ": 6, "HOOD-RED-L": 11}
AGENTS = 24


def test_concurrent_agents_are_granted_exactly_the_stock():
    with Stack(sim=False, push=False, catalog_patch=stock_at_first_location(STOCK, unbuffered=False), prefix="shelf-flash-") as stack:
        shelf, token = stack.shelf, stack.admin
        for sku, units in STOCK.items():
            assert stack.stock(sku)["total"]["available"] == units, sku
        sequence_before = stack.sql("SELECT MAX(sequence) FROM events")[0][0]

        # Three units of demand per unit of stock, one unit per agent request, shuffled across SKUs.
        demand = [sku for sku, units in STOCK.items() for _ in range(3 * units)]
        random.Random(8).shuffle(demand)
        results = collections.defaultdict(collections.Counter)
        refusals = []
        unexpected = []
        lock = threading.Lock()
        start = threading.Barrier(AGENTS)

        def agent(n):
            start.wait(timeout=30)
            for i in range(n, len(demand), AGENTS):
                sku = demand[i]
                hold = shelf.call("POST", "/v1/reservations", token, {"sku": sku, "qty": 1, "ttlSeconds": 120},
                                  {"Idempotency-Key": f"agent-{n}-{i}"})
                if hold.status == 409:
                    with lock:
                        refusals.append(hold)
                        results[sku]["refused"] += 1
                    continue
                if hold.status != 201:
                    with lock:
                        unexpected.append(("reserve", sku, hold))
                    continue
                done = shelf.call("POST", f"/v1/reservations/{hold.json['id']}/commit", token)
                with lock:
                    if done.status == 200 and done.json["status"] == "committed":
                        results[sku]["granted"] += 1
                    else:
                        unexpected.append(("commit", sku, done))

        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(AGENTS) as pool:
            for f in [pool.submit(agent, n) for n in range(AGENTS)]:
                f.result(timeout=120)
        elapsed = time.monotonic() - began
        print(f"\nflash sale (reservations): {len(demand)} requests by {AGENTS} agents in {elapsed:.1f}s; "
              + ", ".join(f"{sku}: {r['granted']} granted / {r['refused']} refused of {STOCK[sku]}" for sku, r in sorted(results.items())))

        assert unexpected == [], unexpected[:5]
        for sku, units in STOCK.items():
            assert results[sku]["granted"] == units, (sku, results[sku])
            assert results[sku]["refused"] == 2 * units, (sku, results[sku])
        for reply in refusals:
            body = assert_problem(reply, status=409, kind="insufficient-stock")
            assert body["available"] == 0 and body["requested"] == 1, body

        # The ledger, read straight from the SQLite file.
        now = time.strftime("%Y-%m-%dT%H:%M:%S.999Z", time.gmtime(time.time() + 1))
        for sku, units in STOCK.items():
            counts = dict(stack.sql("SELECT type, COUNT(*) FROM events WHERE seller = 'demo' AND sku = ? AND sequence > ? GROUP BY type",
                                    (sku, sequence_before)))
            assert counts == {"reservation.created": units, "reservation.committed": units}, (sku, counts)
            committed, reserved, oversold, on_hand = stack.sql(
                "SELECT SUM(committed), SUM(reserved), SUM(oversold), SUM(onHand) FROM stock WHERE seller = 'demo' AND sku = ?", (sku,))[0]
            assert (committed, reserved, oversold, on_hand) == (units, 0, 0, units), sku
            assert stack.sql("SELECT COUNT(*) FROM holds WHERE sku = ?", (sku,))[0][0] == 0

            # The audit trail says the same.
            audit = []
            cursor = str(sequence_before)
            while cursor:
                page = shelf.call("GET", f"/v1/audit?sku={sku}&cursor={cursor}&limit=1000", token).json
                audit += page["events"]
                cursor = page.get("nextCursor")
            assert collections.Counter(e["event"]["type"] for e in audit) == counts, sku
            assert sum(e["event"]["qty"] for e in audit if e["event"]["type"] == "reservation.committed") == units

            # The snapshot agrees with the ledger and with a replay of it.
            live = stack.stock(sku)
            assert live["total"]["available"] == 0 and live["total"]["committed"] == units, live["total"]
            assert live["total"]["reserved"] == 0 and live["total"]["oversold"] == 0, live["total"]
            replay = shelf.call("GET", f"/v1/stock/{sku}?at={now}", token).json
            assert replay["total"] == live["total"] and replay["locations"] == live["locations"], sku
            assert all(c["publishedQuantity"] == 0 for c in live["channels"]), live["channels"]
            offer = shelf.call("GET", f"/v1/offers/{sku}?qty=1&country=US&postalCode=10001", token)
            assert offer.status == 200, offer
            assert offer.json["stock"]["available"] == 0 and offer.json["purchasable"] is False, offer.json

        # A late agent is still refused: the promise holds after the rush.
        late = shelf.call("POST", "/v1/reservations", token, {"sku": "TEE-RED-M", "qty": 1, "ttlSeconds": 60}, {"Idempotency-Key": "late"})
        assert_problem(late, status=409, kind="insufficient-stock")
        assert shelf.alive() and not shelf.crashed()
