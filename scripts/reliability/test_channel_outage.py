"""Channel outage against the real processes: one channel (Walmart) times out and then answers 503 to every push. Shelf keeps
pushing the other channels, retries Walmart with backoff, dead-letters after its retry budget, and once the channel is
back a replay (POST /v1/dlq/{id}/replay) delivers the current counts. Nothing is dropped: every channel ends up showing what
Shelf publishes, including a change made while the pushes were failing."""
import time

from shelfproc import Stack, eventually, report

SKUS = ["TEE-RED-S", "HOOD-RED-M", "SOCK-RED-S"]
DOWN = "walmart-us"
MAX_ATTEMPTS = 6  # Propagator.Policy default


def stocked(line):
    if line["item"]["sku"] in SKUS:
        for i, level in enumerate(line["levels"]):
            level["level"].update(onHand=40 if i == 0 else 0, safetyStock=0, unavailable=0, committed=0, reserved=0)


def test_outage_retries_then_dead_letters_and_a_replay_delivers():
    with Stack(keep_skus=set(SKUS), catalog_patch=stocked, prefix="shelf-outage-") as stack:
        shelf, sim, token = stack.shelf, stack.sim, stack.admin
        connections = sorted(sim.connections())
        external = {c: {item["sku"]: ext for ext, item in sim.items(c).items()} for c in connections}

        def shows(connection, sku):
            return sim.items(connection)[external[connection][sku]]["quantity"]

        def all_show_published(among):
            published = {sku: stack.published(sku) for sku in SKUS}
            return all(shows(c, sku) == published[sku][c] for c in among for sku in SKUS)

        def idle():
            return stack.sql("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM deliveries)")[0][0] == 0

        eventually("channels in sync before the outage", lambda: idle() and all_show_published(connections), timeout=60, interval=0.2)
        before_outage = {sku: shows(DOWN, sku) for sku in SKUS}

        # The outage: two pushes hang until the connection is reset, then every push gets a 503.
        hang = {"connection": DOWN, "mode": "timeout", "durationMs": 400, "count": 2, "operation": "push"}
        assert sim.control("POST", "faults", hang).status == 201
        assert sim.control("POST", "faults", {"connection": DOWN, "mode": "status", "status": 503, "operation": "push"}).status == 201
        began = time.monotonic()
        for i, sku in enumerate(SKUS):
            reply = shelf.call("POST", "/v1/events", token, {"type": "order.confirmed", "sku": sku, "qty": 2 + i, "channel": "amazon"},
                               {"Idempotency-Key": f"outage-{sku}"})
            assert reply.status == 202, reply
        time.sleep(0.3)
        # A change while Walmart's pushes are failing rides on the pending retry.
        reply = shelf.call("POST", "/v1/events", token, {"type": "order.confirmed", "sku": SKUS[0], "qty": 1, "channel": "ebay"},
                           {"Idempotency-Key": "outage-late"})
        assert reply.status == 202, reply

        # The other five channels are not held up by the one that is down.
        up = [c for c in connections if c != DOWN]
        eventually("the healthy channels to show the new counts", lambda: all_show_published(up), timeout=30, interval=0.1)
        healthy_at = time.monotonic() - began

        # Walmart: retried with backoff, then dead-lettered, one dead letter per SKU, none lost.
        def dead_letters():
            listed = shelf.call("GET", "/v1/dlq", token).json["deadLetters"]
            return listed if {d["sku"] for d in listed if d["connection"] == DOWN} == set(SKUS) and idle() else None

        letters = eventually("Walmart's pushes to be dead-lettered", dead_letters, timeout=45, interval=0.2)
        dead_at = time.monotonic() - began
        assert {d["connection"] for d in letters} == {DOWN}, letters
        assert all(d["attempts"] == MAX_ATTEMPTS for d in letters), letters
        assert all("503" in d["lastError"] or "timed out" in d["lastError"].lower() or "reset" in d["lastError"].lower()
                   for d in letters), [d["lastError"] for d in letters]
        stats = sim.control("GET", "stats").json["connections"][DOWN]
        assert stats["faultsInjected"] >= MAX_ATTEMPTS, stats
        assert {sku: shows(DOWN, sku) for sku in SKUS} == before_outage, "a failed push must not have changed the channel"

        # The channel comes back; nothing happens to the dead letters until an operator replays them.
        assert sim.control("DELETE", f"faults?connection={DOWN}").status == 204
        for letter in letters:
            reply = shelf.call("POST", f"/v1/dlq/{letter['id']}/replay", token)
            assert reply.status == 200 and reply.json == {"replayed": 1}, reply
        again = shelf.call("POST", f"/v1/dlq/{letters[0]['id']}/replay", token)
        assert again.status == 404, again
        eventually("Walmart to show Shelf's counts after the replay", lambda: idle() and all_show_published(connections), timeout=30,
                   interval=0.1)
        replayed_at = time.monotonic() - began
        assert shelf.call("GET", "/v1/dlq", token).json["deadLetters"] == []
        assert stack.sql("SELECT COUNT(*) FROM dlq")[0][0] == 0
        for sku in SKUS:
            assert shows(DOWN, sku) < before_outage[sku], sku  # the replay sent the current (lower) count, not a stale one
        report(f"channel outage ({DOWN}): healthy channels updated after {healthy_at:.2f}s, dead-lettered after {dead_at:.1f}s "
               f"({MAX_ATTEMPTS} attempts, {stats['faultsInjected']} faults injected), replayed and delivered at {replayed_at:.1f}s")
        assert shelf.alive() and not shelf.crashed()
