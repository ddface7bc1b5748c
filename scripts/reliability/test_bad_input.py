"""Bad input against the real server (extras beside the schemathesis run of scripts/contract-tests.sh): oversized bodies,
malformed JSON and UTF-8, wrong content types, huge batches, unicode and look-alike SKUs, negative and mistyped quantities.
Each gets a clear 4xx RFC 9457 problem naming the field where there is one, never a 5xx, and changes nothing: the ledger
head, stock rows, holds, idempotency keys, tokens and connections read from the SQLite file are the same before and after,
and so are GET /v1/stock and the audit trail."""
import json

import pytest

from shelfproc import Stack, assert_problem

SKU = "TEE-RED-M"
MIB = 1 << 20


def event(**fields):
    return dict({"type": "order.confirmed", "sku": SKU, "qty": 1, "channel": "amazon"}, **fields)


def raw_event(text):
    return {"raw": text.encode() if isinstance(text, str) else text}


# (id, method, path, request kwargs, status, field, problem kind)
CASES = [
    # Sizes.
    ("event-over-1MiB", "POST", "/v1/events",
     raw_event(b'{"type":"stock.received","sku":"TEE-RED-M","qty":1,"note":"' + b"x" * (MIB + 16) + b'"}'), 413, None, "payload-too-large"),
    ("offers-batch-501", "POST", "/v1/offers:batch", {"body": {"items": [{"sku": f"S-{i}"} for i in range(501)]}}, 413, "items",
     "payload-too-large"),
    ("offers-batch-20000", "POST", "/v1/offers:batch", {"body": {"items": [{"sku": SKU, "qty": 1}] * 20000}}, 413, "items",
     "payload-too-large"),
    ("offers-batch-over-1MiB", "POST", "/v1/offers:batch", {"body": {"items": [{"sku": "X" * 100}] * 12000}}, 413, None,
     "payload-too-large"),
    ("import-501", "POST", "/v1/skus:import",
     {"body": {"items": [{"sku": f"NEW-{i}", "productId": "P", "title": "t", "price": {"amount": 1, "currency": "USD"}}
                         for i in range(501)]}}, 413, "items", "payload-too-large"),
    ("reservation-over-64KiB", "POST", "/v1/reservations", raw_event('{"sku":"TEE-RED-M","qty":1,"ttlSeconds":60,"x":"' + "y" * 70000 + '"}'),
     413, None, "payload-too-large"),
    # Malformed bodies.
    ("event-truncated-json", "POST", "/v1/events", raw_event('{"type":"order.confirmed","sku":'), 400, None, "malformed-json"),
    ("event-invalid-utf8", "POST", "/v1/events", raw_event(b'{"type":"order.confirmed","sku":"TEE-\xff\xfe","qty":1}'), 400, None,
     "malformed-json"),
    ("event-trailing-garbage", "POST", "/v1/events", raw_event(json.dumps(event()) + "}"), 400, None, "malformed-json"),
    ("event-empty-body", "POST", "/v1/events", raw_event(b""), 400, None, "malformed-json"),
    ("event-array-body", "POST", "/v1/events", {"body": [event()]}, 422, None, "validation"),
    ("event-unknown-field", "POST", "/v1/events", {"body": event(quantity=5)}, 422, "quantity", "validation"),
    ("event-unknown-type", "POST", "/v1/events", {"body": event(type="order.exploded")}, 422, "type", "validation"),
    ("event-no-idempotency-key", "POST", "/v1/events", {"body": event(), "key": None}, 422, "Idempotency-Key", "validation"),
    ("event-unknown-channel", "POST", "/v1/events", {"body": event(channel="myspace")}, 422, "channel", "validation"),
    ("reservation-truncated", "POST", "/v1/reservations", raw_event('{"sku":"TEE-RED-M",'), 400, None, "malformed-json"),
    # Content types.
    ("event-text-plain", "POST", "/v1/events", {"body": event(), "content_type": "text/plain"}, 415, "Content-Type",
     "unsupported-media-type"),
    ("event-no-content-type", "POST", "/v1/events", {"body": event(), "content_type": None}, 415, "Content-Type", "unsupported-media-type"),
    ("event-form-encoded", "POST", "/v1/events",
     {"raw": b"type=order.confirmed&sku=TEE-RED-M&qty=1", "content_type": "application/x-www-form-urlencoded"}, 415, "Content-Type",
     "unsupported-media-type"),
    ("reservation-xml", "POST", "/v1/reservations", {"raw": b"<hold sku='TEE-RED-M'/>", "content_type": "application/xml"}, 415,
     "Content-Type", "unsupported-media-type"),
    ("offers-batch-multipart", "POST", "/v1/offers:batch", {"body": {"items": [{"sku": SKU}]}, "content_type": "multipart/form-data"}, 415,
     "Content-Type", "unsupported-media-type"),
    # Quantities.
    ("order-negative-qty", "POST", "/v1/events", {"body": event(qty=-3)}, 422, "qty", "validation"),
    ("order-zero-qty", "POST", "/v1/events", {"body": event(qty=0)}, 422, "qty", "validation"),
    ("stock-set-negative", "POST", "/v1/events", {"body": event(type="stock.set", qty=-1, channel=None)}, 422, "qty", "validation"),
    ("stock-received-negative", "POST", "/v1/events", {"body": event(type="stock.received", qty=-10, channel=None)}, 422, "qty",
     "validation"),
    ("order-qty-string", "POST", "/v1/events", {"body": event(qty="5")}, 422, "qty", "validation"),
    ("order-qty-fraction", "POST", "/v1/events", {"body": event(qty=1.5)}, 422, "qty", "validation"),
    ("order-qty-huge", "POST", "/v1/events", raw_event('{"type":"order.confirmed","sku":"TEE-RED-M","qty":1e300}'), 422, "qty",
     "validation"),
    ("order-qty-over-int64", "POST", "/v1/events", raw_event('{"type":"order.confirmed","sku":"TEE-RED-M","qty":99999999999999999999}'),
     422, "qty", "validation"),
    ("price-negative", "POST", "/v1/events",
     {"body": {"type": "price.changed", "sku": SKU, "price": {"amount": -100, "currency": "USD"}}}, 422, "price.amount", "validation"),
    ("reservation-negative-qty", "POST", "/v1/reservations", {"body": {"sku": SKU, "qty": -2, "ttlSeconds": 60}}, 422, "qty",
     "validation"),
    ("reservation-ttl-too-short", "POST", "/v1/reservations", {"body": {"sku": SKU, "qty": 1, "ttlSeconds": 1}}, 422, "ttlSeconds",
     "validation"),
    ("offers-batch-negative-qty", "POST", "/v1/offers:batch", {"body": {"items": [{"sku": SKU, "qty": -1}]}}, 422, "items[0].qty",
     "validation"),
    ("offer-negative-qty", "GET", f"/v1/offers/{SKU}?qty=-1", {}, 422, "qty", "validation"),
    ("offer-qty-not-a-number", "GET", f"/v1/offers/{SKU}?qty=lots", {}, 422, "qty", "validation"),
    ("sku-negative-on-hand", "PUT", f"/v1/skus/{SKU}",
     {"body": {"productId": "P-TEE-RED", "title": "Tee", "price": {"amount": 1999, "currency": "USD"},
               "levels": [{"location": "reno", "onHand": -5}]}}, 422, "levels[0].onHand", "validation"),
    # SKUs: unicode, look-alikes, control characters.
    ("sku-cyrillic-lookalike", "POST", "/v1/events", {"body": event(sku="\u0422\u0415\u0415-RED-M")}, 404, "sku", "not-found"),
    ("sku-emoji", "POST", "/v1/events", {"body": event(sku="\U0001F455-RED-M")}, 404, "sku", "not-found"),
    ("sku-zero-width-space", "POST", "/v1/events", {"body": event(sku="TEE-RED\u200b-M")}, 404, "sku", "not-found"),
    ("sku-combining-mark", "POST", "/v1/reservations", {"body": {"sku": "TE\u0301E-RED-M", "qty": 1, "ttlSeconds": 60}}, 404, "sku",
     "not-found"),
    ("sku-nul", "POST", "/v1/events", {"body": event(sku="TEE-RED-M\u0000")}, 422, "sku", "validation"),
    ("sku-space", "POST", "/v1/events", {"body": event(sku="TEE RED M")}, 422, "sku", "validation"),
    ("sku-no-break-space", "POST", "/v1/events", {"body": event(sku="TEE\u00a0RED")}, 422, "sku", "validation"),
    ("sku-slash", "POST", "/v1/events", {"body": event(sku="TEE/RED/M")}, 422, "sku", "validation"),
    ("sku-129-chars", "POST", "/v1/events", {"body": event(sku="S" * 129)}, 422, "sku", "validation"),
    ("sku-empty", "POST", "/v1/events", {"body": event(sku="")}, 422, "sku", "validation"),
    ("sku-unicode-offer", "GET", "/v1/offers/%E2%80%AETEE-RED-M", {}, 404, None, "not-found"),
    ("reservation-unicode-sku", "POST", "/v1/reservations", {"body": {"sku": "\u30b7\u30e3\u30c4", "qty": 1, "ttlSeconds": 60}}, 404, "sku",
     "not-found"),
]


@pytest.fixture(scope="module")
def stack():
    with Stack(sim=False, push=False, keep_skus={SKU, "MUG-RED-11OZ", "HOOD-RED-L"}, prefix="shelf-badin-") as s:
        yield s


def observable(stack):
    """What a client can see: stock, the audit trail's head and the SQLite fingerprint."""
    stock = stack.stock(SKU)
    stock.pop("asOf", None)
    audit = stack.shelf.call("GET", "/v1/audit?limit=1000", stack.admin).json["events"]
    return stack.fingerprint(), stock, len(audit), audit[-1]["sequence"] if audit else 0


@pytest.mark.parametrize("name,method,path,kw,status,field,kind", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_problem_and_changes_nothing(stack, name, method, path, kw, status, field, kind):
    kw = dict(kw)
    headers = {}
    key = kw.pop("key", f"bad-{name}")
    if key is not None and method == "POST":
        headers["Idempotency-Key"] = key
    before = observable(stack)
    reply = stack.shelf.call(method, path, stack.admin, headers=headers, timeout=30, **kw)
    body = assert_problem(reply, status=status, field=field, kind=kind)
    assert body["detail"], body
    assert observable(stack) == before, f"{name} changed state"
    assert stack.shelf.alive() and not stack.shelf.crashed()


def test_a_good_request_after_the_bad_ones_still_works(stack):
    """Control: the same endpoints accept a valid request (so the refusals above were about the input)."""
    before = stack.stock(SKU)["total"]["committed"]
    reply = stack.shelf.call("POST", "/v1/events", stack.admin, event(), {"Idempotency-Key": "good-1"})
    assert reply.status == 202 and reply.json["status"] == "accepted", reply
    assert stack.stock(SKU)["total"]["committed"] == before + 1
