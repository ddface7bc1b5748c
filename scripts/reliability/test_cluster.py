"""Three `shelf serve` nodes on one throwaway PostgreSQL database (initdb/pg_ctl), shelf-sim as the six channels.

- Agents on all three nodes at once reserve three times the stock: exactly the stock is granted (0 oversold), and every node
  answers the same stock afterwards.
- Channel orders (facts: already sold on the channel) arrive on all three nodes at once for more than the stock: each is
  recorded exactly once, and the only oversold units are the ones the channels sold beyond the stock.
- The node that runs the push workers is killed with SIGKILL: another node takes over, and every storefront ends with the
  value Shelf publishes for a change made after the kill.
- A node started late catches up from the ledger and answers the same stock as the others."""
import concurrent.futures
import random
import shutil
import signal
import tempfile
import threading
import time

from shelfproc import (PostgresCluster, Shelf, Sim, cluster_leader, create_token, eventually, free_port, make_fixtures,
                       stock_at_first_location)

STOCK = {"TEE-RED-M": 12, "HOOD-RED-S": 9}


def totals(node, token, sku):
    reply = node.call("GET", f"/v1/stock/{sku}", token)
    assert reply.status == 200, reply
    return reply.json["total"]


def test_three_nodes_share_one_truth_and_survive_the_push_node():
    work = tempfile.mkdtemp(prefix="shelf-rel-cluster-")
    nodes, sim = [], None
    try:
        with PostgresCluster() as pg:
            url = pg.create_database()
            ports = [free_port() for _ in range(4)]
            sim_port = free_port()
            fixtures, sim_fixtures = make_fixtures(work, ports[0], sim_port, push=True, catalog_patch=stock_at_first_location(STOCK),
                                                   keep_skus=set(STOCK))
            sim = Sim(work, sim_port, sim_fixtures)
            # The first node loads the fixtures into the empty database; the others find them there.
            nodes = [Shelf(work, url, ports[0], fixtures=fixtures, name="node-0")]
            nodes += [Shelf(work, url, port, name=f"node-{i}") for i, port in list(enumerate(ports))[1:3]]
            admin = create_token(url, "read,ingest,admin")
            eventually("exactly one node to run the singletons", lambda: sorted(cluster_leader(n) for n in nodes) == [0, 0, 1], timeout=30)
            for sku, units in STOCK.items():
                for node in nodes:
                    assert totals(node, admin, sku)["available"] == units, (node.port, sku)

            # 1. Promises: agents on every node reserve three times TEE-RED-M's stock, one unit each.
            sku, units = "TEE-RED-M", STOCK["TEE-RED-M"]
            granted, refused, unexpected = [], [], []
            lock = threading.Lock()
            start = threading.Barrier(12)

            def agent(n):
                start.wait(timeout=30)
                for i in range(n, 3 * units, 12):
                    node = nodes[i % 3]
                    hold = node.call("POST", "/v1/reservations", admin, {"sku": sku, "qty": 1, "ttlSeconds": 300},
                                     {"Idempotency-Key": f"agent-{i}"})
                    with lock:
                        (granted if hold.status == 201 else refused if hold.status == 409 else unexpected).append(hold)

            with concurrent.futures.ThreadPoolExecutor(12) as pool:
                for f in [pool.submit(agent, n) for n in range(12)]:
                    f.result(timeout=120)
            assert unexpected == [], unexpected[:3]
            assert len(granted) == units and len(refused) == 2 * units, (len(granted), len(refused))
            for node in nodes:
                t = totals(node, admin, sku)
                assert t["available"] == 0 and t["reserved"] == units and t.get("oversold", 0) == 0, (node.port, t)

            # 2. Facts: channel orders for HOOD-RED-S arrive on all three nodes at once, 5 more than the stock.
            sku, units = "HOOD-RED-S", STOCK["HOOD-RED-S"]
            orders = units + 5
            channels = ["amazon", "ebay", "tiktok", "shopify"]
            rng = random.Random(17)
            plan = [(nodes[rng.randrange(3)], channels[i % len(channels)], f"order-{i}") for i in range(orders)]

            def order(entry):
                node, channel, order_id = entry
                body = {"type": "order.confirmed", "sku": sku, "qty": 1, "channel": channel, "orderId": order_id}
                return node.call("POST", "/v1/events", admin, body, {"Idempotency-Key": order_id})

            with concurrent.futures.ThreadPoolExecutor(12) as pool:
                answers = list(pool.map(order, plan + plan[:6]))  # six sent twice: duplicates, recorded once
            assert all(a.status in (200, 202) for a in answers), [a for a in answers if a.status not in (200, 202)][:3]
            for node in nodes:
                t = eventually(f"node {node.port} to show every order", lambda: (lambda t: t if t["committed"] == orders else None)(totals(node, admin, sku)))
                assert t["available"] == 0 and t.get("oversold", 0) == orders - units, (node.port, t)
            audit = nodes[1].call("GET", f"/v1/audit?sku={sku}&limit=1000", admin)
            assert audit.status == 200, audit
            assert sum(1 for e in audit.json["events"] if e["event"]["type"] == "order.confirmed") == orders, audit.json

            # 3. The push node dies (SIGKILL); a change made afterwards reaches every storefront through the new leader.
            first = next(n for n in nodes if cluster_leader(n) == 1)
            survivors = [n for n in nodes if n is not first]
            first.stop(signal.SIGKILL)
            killed_at = time.monotonic()
            change = survivors[0].call("POST", "/v1/events", admin, {"type": "stock.received", "sku": "TEE-RED-M", "qty": 40},
                                       {"Idempotency-Key": "restock-1"})
            assert change.status in (200, 202), change
            eventually("a survivor to take over the singletons", lambda: sorted(cluster_leader(n) for n in survivors) == [0, 1], timeout=15)
            took_over = time.monotonic() - killed_at
            published = {c["connection"]: (c["externalId"], c["publishedQuantity"])
                         for c in survivors[1].call("GET", "/v1/stock/TEE-RED-M", admin).json["channels"] if c.get("connection")}
            assert published and all(q == 40 for _, q in published.values()), published

            def storefronts_show_it():
                return all(sim.items(c)[ext]["quantity"] == q for c, (ext, q) in published.items())

            eventually("every storefront to show the restock", storefronts_show_it, timeout=30, interval=0.2)
            print(f"\ncluster: failover (kill -9 to a new leader) {took_over:.2f}s; storefronts in sync after "
                  f"{time.monotonic() - killed_at:.2f}s")

            # 4. A node started late catches up and answers the same stock as the others.
            late = Shelf(work, url, ports[3], name="node-late")
            nodes.append(late)
            for sku in STOCK:
                expected = totals(survivors[0], admin, sku)
                assert totals(late, admin, sku) == expected, sku
            assert cluster_leader(late) == 0
            # And a write on the late node is visible on the others.
            hold = late.call("POST", "/v1/reservations", admin, {"sku": "TEE-RED-M", "qty": 2, "ttlSeconds": 300}, {"Idempotency-Key": "late-1"})
            assert hold.status == 201, hold
            for node in survivors:
                eventually(f"node {node.port} to see the late node's hold",
                           lambda: totals(node, admin, "TEE-RED-M")["reserved"] == STOCK["TEE-RED-M"] + 2, timeout=5, interval=0.02)
            for node in nodes:
                if node.alive():
                    assert not node.crashed(), node.log
    finally:
        for node in nodes:
            node.stop()
        if sim:
            sim.stop()
        shutil.rmtree(work, ignore_errors=True)
