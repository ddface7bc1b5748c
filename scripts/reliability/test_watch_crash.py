"""Watch deliveries survive kill -9: the real `shelf serve` judges changes while the agent's receiver is down (the deliveries
wait in the outbox, retried with backoff), is killed with SIGKILL, and restarted with the receiver back. Every pending
delivery arrives exactly once per transition (one delivery id per SKU, signed), and back in stock does not fire again after
the restart for a SKU that stayed in stock."""
import hashlib
import hmac
import http.server
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shelfproc import Shelf, Stack, create_token, eventually, free_port, report  # noqa: E402

SECRET = "crash-secret-0123456789"


class Receiver:
    """A loopback webhook receiver that records every request and answers 204."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.deliveries = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.deliveries.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        with self.lock:
            return [(headers, json.loads(body), body) for _, headers, body in self.deliveries]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signed(headers, raw):
    parts = dict(p.split("=", 1) for p in headers["shelf-signature"].split(","))
    mac = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"])


def stock_set(shelf, token, sku, qty):
    reply = shelf.call("POST", "/v1/events", token, {"type": "stock.set", "sku": sku, "qty": qty, "location": "reno"},
                       headers={"Idempotency-Key": os.urandom(8).hex()})
    assert reply.status < 300, reply


def test_watch_deliveries_survive_kill_9():
    with Stack(sim=False, push=False, prefix="shelf-rel-watch-") as stack:
        shelf = stack.shelf
        read = create_token(stack.db, "read", label="watch crash")
        skus = [f"W-CRASH-{i}" for i in range(4)]
        for sku in skus:
            reply = shelf.call("PUT", f"/v1/skus/{sku}", stack.admin, {
                "productId": "P-CRASH", "title": "Crash watched", "price": {"amount": 1500, "currency": "USD"},
                "levels": [{"location": "reno", "onHand": 0}]})
            assert reply.status == 200, reply
        port = free_port()  # nothing listens here until after the kill
        reply = shelf.call("POST", "/v1/watches", read, {
            "skus": skus, "conditions": [{"type": "back_in_stock"}],
            "target": {"url": f"http://127.0.0.1:{port}/hook", "secret": SECRET}})
        assert reply.status == 201, reply
        watch_id = reply.json["id"]
        for sku in skus[:3]:
            stock_set(shelf, stack.admin, sku, 4)
        # The three deliveries fired and wait in the outbox (the receiver refuses connections; retried with backoff).
        eventually("three deliveries in the outbox", lambda: stack.sql("SELECT COUNT(*) FROM watch_outbox")[0][0] == 3)

        shelf.proc.send_signal(signal.SIGKILL)
        shelf.proc.wait(timeout=10)
        receiver = Receiver(port)
        try:
            restarted = Shelf(stack.work, stack.db, shelf.port, name="shelf-restarted")
            stack.shelf = restarted
            eventually("every pending delivery made", lambda: len(receiver.bodies()) >= 3, timeout=30)
            stock_set(restarted, stack.admin, skus[3], 2)
            eventually("the fourth SKU", lambda: len(receiver.bodies()) >= 4, timeout=30)
            # Still in stock (4 -> 9): no second back_in_stock; sold out and back (4 -> 0 -> 6): a new transition.
            stock_set(restarted, stack.admin, skus[0], 9)
            stock_set(restarted, stack.admin, skus[1], 0)
            stock_set(restarted, stack.admin, skus[1], 6)
            eventually("the second transition of the second SKU", lambda: len(receiver.bodies()) >= 5, timeout=30)
            eventually("the outbox drained", lambda: stack.sql("SELECT COUNT(*) FROM watch_outbox")[0][0] == 0)
            page = restarted.call("GET", f"/v1/watches/{watch_id}/deliveries", read).json
            assert page["deadLetters"] == [] and page["queued"] == 0, page

            got = receiver.bodies()
            assert all(signed(h, raw) for h, _, raw in got)
            per_sku = {}
            for h, body, _ in got:
                assert body["type"] == "product_availability_updated", body
                assert h["shelf-delivery-id"] == body["id"]
                per_sku.setdefault(body["sku"], []).append(body)
            assert sorted(per_sku) == sorted(skus), per_sku.keys()
            assert [len(per_sku[s]) for s in skus] == [1, 2, 1, 1], {s: len(v) for s, v in per_sku.items()}
            assert len({body["id"] for _, body, _ in got}) == len(got)
            assert per_sku[skus[0]][0]["offer"]["stock"]["available"] == 4
            assert [b["offer"]["stock"]["available"] for b in per_sku[skus[1]]] == [4, 6]
            report(f"watch deliveries after kill -9: {len(got)} received for 5 transitions, 0 duplicates, 0 lost")
        finally:
            receiver.close()
