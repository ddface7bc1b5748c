"""Security against the real server: another tenant's tokens, revoked and expired tokens, malformed credentials, and channel
webhooks with bad signatures (wrong secret, tampered body, signature headers stripped, replayed to another connection).
None is accepted and nothing is recorded (the SQLite fingerprint — ledger head, stock, holds, idempotency keys, tokens,
connections — is unchanged). Positive controls show the same requests succeed with the right credentials."""
import http.server
import threading
import time

import pytest

from shelfproc import Stack, assert_problem, create_token, eventually, free_port, request, token_id

SKU = "TEE-RED-M"
SKUS = {SKU, "MUG-RED-11OZ"}
LISTS = ["/v1/audit?limit=1000", "/v1/tokens", "/v1/connections", "/v1/dlq"]


@pytest.fixture(scope="module")
def stack():
    with Stack(keep_skus=SKUS, prefix="shelf-sec-") as s:
        eventually("the first pushes", lambda: s.sql("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM deliveries)")[0][0] == 0,
                   timeout=60, interval=0.2)
        yield s


def attempts(stack, hold_id, victim_token_id, tag):
    """Every kind of request a stolen or foreign credential might try, as (method, path, body)."""
    return [
        ("GET", f"/v1/stock/{SKU}", None),
        ("GET", f"/v1/offers/{SKU}?qty=1", None),
        ("GET", f"/v1/catalog?limit=5", None),
        ("POST", "/v1/events", {"type": "order.confirmed", "sku": SKU, "qty": 1}),
        ("POST", "/v1/events", {"type": "stock.set", "sku": SKU, "qty": 0}),
        ("POST", "/v1/reservations", {"sku": SKU, "qty": 1, "ttlSeconds": 60}),
        ("GET", f"/v1/reservations/{hold_id}", None),
        ("POST", f"/v1/reservations/{hold_id}/commit", None),
        ("DELETE", f"/v1/reservations/{hold_id}", None),
        ("PUT", f"/v1/skus/{SKU}", {"productId": "P-TEE-RED", "title": "pwned", "price": {"amount": 1, "currency": "USD"}}),
        ("DELETE", f"/v1/skus/{SKU}", None),
        ("PUT", "/v1/connections/amazon-us", {"channel": "amazon", "kind": "amazon", "baseURL": "http://127.0.0.1:1/evil",
                                              "webhookSecret": "attacker-secret"}),
        ("DELETE", "/v1/connections/amazon-us", None),
        ("POST", "/v1/tokens", {"scopes": ["admin"], "label": f"escalate-{tag}"}),
        ("DELETE", f"/v1/tokens/{victim_token_id}", None),
        ("POST", "/v1/dlq:replay-all", None),
        ("POST", "/v1/reconciliation:run", None),
    ] + [("GET", path, None) for path in LISTS]


def send(stack, token, method, path, body, n):
    headers = {"Idempotency-Key": f"attack-{n}"} if method == "POST" else {}
    if token is None:
        return request(method, stack.shelf.url(path), None, body, headers)
    if isinstance(token, tuple):  # a raw Authorization header
        return request(method, stack.shelf.url(path), None, body, dict(headers, Authorization=token[0]))
    return stack.shelf.call(method, path, token, body, headers)


def shelf_status(stack, token, path):
    return stack.shelf.call("GET", path, token).status


def demo_hold(stack):
    reply = stack.shelf.call("POST", "/v1/reservations", stack.admin, {"sku": SKU, "qty": 1, "ttlSeconds": 3600},
                             {"Idempotency-Key": f"victim-hold-{time.monotonic_ns()}"})
    assert reply.status == 201, reply
    return reply.json["id"]


def test_revoked_expired_and_malformed_tokens_are_refused_and_record_nothing(stack):
    db = stack.db
    revoked = create_token(db, "read,ingest,admin", label="to revoke")
    expired = create_token(db, "read,ingest,admin", ttl="3s", label="expires")
    victim = create_token(db, "read", label="victim")
    # Both work at first (and are now in the server's token cache) ...
    for token in (revoked, expired):
        assert stack.shelf.call("GET", f"/v1/stock/{SKU}", token).status == 200
    # ... then one is revoked through the API and the other runs out.
    assert stack.shelf.call("DELETE", f"/v1/tokens/{token_id(revoked)}", stack.admin).status == 204
    eventually("the 3s token to expire", lambda: stack.shelf.call("GET", f"/v1/stock/{SKU}", expired).status == 401, timeout=10, interval=0.2)
    hold = demo_hold(stack)
    altered = stack.admin[:-1] + ("A" if stack.admin[-1] != "A" else "B")
    credentials = {
        "revoked": revoked,
        "expired": expired,
        "altered-secret": altered,
        "garbage": "shelf_nope_nope",
        "too-long": "shelf_" + "a" * 5000,
        "no-token": None,
        "basic-auth": ("Basic ZGVtbzpkZW1v",),
        "bearer-empty": ("Bearer ",),
        "token-without-bearer": (stack.admin,),
    }
    before = stack.fingerprint()
    n = 0
    for name, credential in credentials.items():
        for method, path, body in attempts(stack, hold, token_id(victim), name):
            n += 1
            reply = send(stack, credential, method, path, body, f"{name}-{n}")
            problem = assert_problem(reply, status=401, kind="unauthorized")
            assert problem["field"] == "Authorization", problem
    assert stack.fingerprint() == before, "a refused credential changed state"
    # Control: a valid token still works, and the victim's token was not revoked by any of it.
    assert stack.shelf.call("GET", f"/v1/stock/{SKU}", victim).status == 200
    assert stack.shelf.call("GET", f"/v1/reservations/{hold}", stack.admin).json["status"] == "active"
    assert stack.shelf.alive() and not stack.shelf.crashed()


def test_another_tenants_tokens_see_and_change_nothing_of_this_seller(stack):
    rival = create_token(stack.db, "read,ingest,admin", seller="rival", label="rival admin")
    victim = create_token(stack.db, "read", label="victim of rival")
    hold = demo_hold(stack)
    demo_ids = {token_id(stack.admin), token_id(victim)} | {c for c in stack.sim.connections()}
    before = stack.fingerprint()
    for n, (method, path, body) in enumerate(attempts(stack, hold, token_id(victim), "rival")):
        reply = send(stack, rival, method, path, body, f"rival-{n}")
        if 200 <= reply.status < 300:
            # Only requests about the rival's own (empty) account may succeed — its listings, minting its own token,
            # replaying its (empty) dead-letter queue, reconciling its (no) connections — with nothing of this seller.
            own = (method == "GET" and any(path.startswith(p.split("?")[0]) for p in LISTS)) or path in (
                "/v1/tokens", "/v1/dlq:replay-all", "/v1/reconciliation:run")
            assert own, (method, path, reply)
            if path == "/v1/dlq:replay-all":
                assert reply.json == {"replayed": 0}, reply
            if path == "/v1/tokens" and method == "POST":
                minted = reply.json["token"]
                assert shelf_status(stack, minted, f"/v1/stock/{SKU}") in (403, 404), "a token minted by the rival reads this seller"
            text = reply.raw.decode()
            assert SKU not in text and not any(i in text for i in demo_ids), (path, text[:500])
        else:
            assert_problem(reply)
            assert reply.status in (403, 404, 409, 422), (method, path, reply)
    assert stack.fingerprint() == before, "a foreign tenant changed this seller's state"
    assert stack.shelf.call("GET", f"/v1/reservations/{hold}", stack.admin).json["status"] == "active"
    assert stack.shelf.call("GET", f"/v1/stock/{SKU}", victim).status == 200


class Capture(http.server.BaseHTTPRequestHandler):
    """Records one POST (path, headers, body) and answers 200: stands in for Shelf to capture a correctly signed webhook."""
    captured = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Capture.captured.append((self.path, dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_webhooks_with_bad_signatures_are_refused_and_record_nothing(stack):
    sim, shelf = stack.sim, stack.shelf
    originals = sim.connections()
    external = {c: {item["sku"]: ext for ext, item in sim.items(c).items()} for c in originals}

    def put_connection(c, **changes):
        body = {k: v for k, v in dict(originals[c], **changes).items() if k != "id"}
        assert sim.control("PUT", f"connections/{c}", body).status == 200

    def order(c, n):
        return {"topic": "order", "orderId": str(930000 + n), "lines": [{"sku": SKU, "externalId": external[c][SKU], "quantity": 1}]}

    before = stack.fingerprint()
    # 1. The simulator signs with a wrong secret.
    for n, c in enumerate(sorted(originals)):
        put_connection(c, webhookSecret=f"not-the-secret-of-{c}")
        deliveries = sim.control("POST", f"connections/{c}/webhooks", order(c, n)).json["deliveries"]
        put_connection(c)
        assert [d["status"] for d in deliveries] == [401], (c, deliveries)

    # 2. Correctly signed deliveries, captured, then tampered with on the way to Shelf.
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    captured = {}
    try:
        for n, c in enumerate(sorted(originals)):
            Capture.captured.clear()
            put_connection(c, webhookURL=f"http://127.0.0.1:{port}/v1/webhooks/{c}")
            deliveries = sim.control("POST", f"connections/{c}/webhooks", order(c, 100 + n)).json["deliveries"]
            put_connection(c)
            assert [d["status"] for d in deliveries] == [200] and len(Capture.captured) == 1, (c, deliveries)
            captured[c] = Capture.captured[0]
    finally:
        server.shutdown()
        server.server_close()

    plain = {"content-type", "content-length", "user-agent", "host", "accept", "accept-encoding", "connection"}
    refused = 0
    for c, (path, headers, body) in captured.items():
        other = sorted(x for x in captured if x != c)[0]
        signature_headers = {k: v for k, v in headers.items() if k.lower() not in plain}
        assert signature_headers, (c, headers)
        bare = {k: v for k, v in headers.items() if k.lower() in {"content-type"}}
        variants = {
            "body + trailing space": (path, headers, body + b" "),
            "body with a changed byte": (path, headers, body.replace(b"1", b"7", 1) if b"1" in body else body[:-1] + b"!"),
            "signature headers stripped": (path, bare, body),
            "replayed to another connection": (f"/v1/webhooks/{other}", headers, body),
            "unknown connection": ("/v1/webhooks/no-such-connection", headers, body),
        }
        for name, (target, hdrs, payload) in variants.items():
            send_headers = {k: v for k, v in hdrs.items() if k.lower() not in {"content-length", "host", "connection"}}
            reply = request("POST", shelf.url(target), None, raw=payload, headers=send_headers, content_type=None)
            assert reply.status == 401, (c, name, reply)
            assert_problem(reply, status=401)
            refused += 1
    assert stack.fingerprint() == before, "a badly signed webhook changed state"

    # Control: the untampered captures are accepted, one order each — the tampering is what was refused.
    head = stack.sql("SELECT MAX(sequence) FROM events")[0][0]
    for c, (path, headers, body) in captured.items():
        send_headers = {k: v for k, v in headers.items() if k.lower() not in {"content-length", "host", "connection"}}
        reply = request("POST", shelf.url(path), None, raw=body, headers=send_headers, content_type=None)
        assert reply.status == 200 and reply.json["accepted"] == 1, (c, reply)
    orders = stack.sql("SELECT COUNT(*) FROM events WHERE sequence > ? AND type = 'order.confirmed'", (head,))[0][0]
    assert orders == len(captured), orders
    assert refused == 5 * len(captured)
    assert shelf.alive() and not shelf.crashed()
