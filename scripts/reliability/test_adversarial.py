"""An adversarial user against the real server (`shelf serve` on a temporary SQLite file): every documented operation with
extreme path, query and body values; the inputs that used to crash Shelf (a rule's huge percentage, a signed webhook line of
2^63−1 units, prices near the top of Int64); text hard cases across a restart; requests the HTTP parser refuses; early
refusals to clients that write their whole body first; a damaged stored row at start-up. After each group the process must
still be alive, have answered no 5xx, and its log must hold no runtime failure."""
import json
import os
import socket
import sqlite3
import time
import urllib.parse
import uuid

import pytest
import yaml

from shelfproc import ROOT, Shelf, Stack, assert_problem, generic_webhook, report, request

SKU = "TEE-RED-M"
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
NUMBERS = [INT64_MAX, INT64_MIN, 2**63, 2**64, 10**9 + 1, -1, 0, 1e308, -1e308, 1.5, -0.0]
STRINGS = ["", "\u0000", "a\u0000b", "x" * 70000, "\u202eevil", "e\u0301", "😀" * 300, "../../etc/passwd", "%00", "\ud7ff"]
PATH_VALUES = ["9223372036854775808", "-1", "%00", "A" * 4000, "%F0%9F%98%80", "..%2F..%2Fetc", "%E2%80%AE", SKU, "x%20y"]
QUERY_VALUES = ["-1", "0", "9223372036854775807", "9223372036854775808", "1e308", "NaN", "", "abc", "%00", "1" * 400]

COUNTS = {"cases": 0}


def check_alive(stack, group):
    shelf = stack.shelf
    assert shelf.alive(), f"shelf died during {group}; log tail:\n{open(shelf.log).read()[-3000:]}"
    assert not shelf.crashed(), f"runtime failure in the log during {group}"
    assert request("GET", shelf.url("/healthz")).status == 200, group


def send(stack, method, path, body=None, raw=None, headers=None, token="admin", content_type="application/json"):
    COUNTS["cases"] += 1
    tok = stack.admin if token == "admin" else token
    reply = request(method, stack.shelf.url(path), tok, body=body, raw=raw, headers=headers, timeout=20, content_type=content_type)
    assert reply.status < 500 or reply.status == 503 and path.startswith("/v1/webhooks"), (method, path, reply)
    if reply.status >= 400 and path != "/mcp":
        assert reply.content_type == "application/problem+json", (method, path, reply.headers, reply)
    return reply


def operations():
    spec = yaml.safe_load(open(os.path.join(ROOT, "openapi", "shelf.yaml")))
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            yield path, method.upper(), op, spec


def resolve(schema, spec):
    while isinstance(schema, dict) and "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema or {}


def sample(schema, spec, depth=0):
    """A plausible value for a schema (its example when it has one), so mutations reach past the first field checked."""
    schema = resolve(schema, spec)
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        out = {}
        for part in schema["allOf"]:
            value = sample(part, spec, depth + 1)
            if isinstance(value, dict):
                out.update(value)
        return out
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return sample(schema[key][0], spec, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {k: sample(v, spec, depth + 1) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {}), spec, depth + 1)] if depth < 4 else []
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0]
    return "x"


def mutations(value, prefix=()):
    """(path, replacement) for every scalar leaf: each number gets the extremes, each string the hard texts."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from mutations(v, prefix + (k,))
    elif isinstance(value, list) and value:
        yield from mutations(value[0], prefix + (0,))
    elif isinstance(value, bool):
        yield prefix, None
    elif isinstance(value, (int, float)):
        for n in NUMBERS:
            yield prefix, n
    elif isinstance(value, str):
        for s in STRINGS[:6]:
            yield prefix, s


def replaced(value, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return copy


@pytest.fixture(scope="module", autouse=True)
def total_cases():
    """Reports how many adversarial cases the whole module sent (every request and raw exchange counted once)."""
    yield
    report(f"adversarial: {COUNTS['cases']} cases sent in all")


@pytest.fixture(scope="module")
def stack():
    with Stack(sim=False, prefix="shelf-adv-") as s:
        yield s


def test_every_operation_with_extreme_values(stack):
    before = COUNTS["cases"]
    for path, method, op, spec in operations():
        if path in ("/v1/stream", "/mcp") and method == "GET":
            continue  # long-lived streams; covered by their own suites
        params = [resolve(p, spec) for p in op.get("parameters", [])]
        path_params = [p["name"] for p in params if p.get("in") == "path"]
        query_params = [p["name"] for p in params if p.get("in") == "query"]
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        # Path parameters: each extreme in each position (the others a real SKU-like value).
        for name in path_params:
            for v in PATH_VALUES:
                concrete = path
                for other in path_params:
                    concrete = concrete.replace("{" + other + "}", v if other == name else SKU)
                send(stack, method, concrete, body={} if method in ("POST", "PUT", "PATCH") else None, headers=headers)
        base = path
        for other in path_params:
            base = base.replace("{" + other + "}", "ADV-" + other.upper())
        for name in query_params:
            for v in QUERY_VALUES:
                send(stack, method, f"{base}?{name}={urllib.parse.quote(v)}", headers=headers)
        body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body_schema is not None:
            good = sample(body_schema, spec)
            for leaf, new in mutations(good):
                send(stack, method, base, body=replaced(good, leaf, new), headers={"Idempotency-Key": uuid.uuid4().hex})
            for raw in [b"{", b"[]", b"null", b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\xff\xfe", b'{"qty": 1e999999}']:
                send(stack, method, base, raw=raw, headers={"Idempotency-Key": uuid.uuid4().hex})
        check_alive(stack, f"{method} {path}")
    report(f"adversarial: {COUNTS['cases'] - before} extreme requests over every documented operation, 0 5xx, process alive")


def generic_connection(stack, name="adv-generic", secret="adversarial-secret"):
    body = {"channel": "amazon", "kind": "generic", "baseURL": "http://127.0.0.1:9/generic", "webhookSecret": secret,
            "pushEnabled": False}
    reply = send(stack, "PUT", f"/v1/connections/{name}", body=body)
    assert reply.status in (200, 201), reply
    return name, secret


def signed(stack, name, secret, payload):
    raw, headers = generic_webhook(payload, secret)
    return send(stack, "POST", f"/v1/webhooks/{name}", raw=raw, headers=headers, token=None)


def test_inputs_that_used_to_crash_are_refused_or_recorded(stack):
    shelf = stack.shelf
    name, secret = generic_connection(stack)
    sku = "ADV-HOOK"
    item = {"productId": "P-ADV", "title": "adv hook", "price": {"amount": 1999, "currency": "USD"},
            "levels": [{"location": "reno", "onHand": 60}], "listings": [{"channel": "amazon"}]}
    assert send(stack, "PUT", f"/v1/skus/{sku}", body=item).status == 200
    # A webhook line of 2^63−1 units, and one of 10^9 + 1: answered, kept as rejected input, never applied.
    for qty in (INT64_MAX, 10**9 + 1):
        order = f"adv-{uuid.uuid4().hex[:8]}"
        reply = signed(stack, name, secret, {"type": "order.placed", "orderId": order, "lines": [{"sku": sku, "quantity": qty}]})
        assert reply.status == 200 and reply.json["rejected"] == 1 and reply.json["accepted"] == 0, reply
    audit = send(stack, "GET", f"/v1/audit?sku={sku}&limit=1000").json
    rejected = [e["event"] for e in audit["events"] if e["event"]["type"] == "input.rejected"]
    assert len(rejected) == 2 and all("outside" in e["note"] for e in rejected), rejected
    metrics = request("GET", shelf.url("/metrics")).raw.decode()
    assert any(line.startswith("shelf_events_ingested_total{") and 'input.rejected' in line and not line.endswith(" 0")
               for line in metrics.splitlines()), [line for line in metrics.splitlines() if "events_ingested" in line]
    committed = stack.stock(sku)["total"]["committed"]
    assert committed < 10**9, committed
    # The next order for that sku is applied normally.
    ok = signed(stack, name, secret, {"type": "order.placed", "orderId": "adv-ok", "lines": [{"sku": sku, "quantity": 1}]})
    assert ok.json["accepted"] == 1, ok
    assert stack.stock(sku)["total"]["committed"] == committed + 1
    # Prices: 10^16 is refused at the edge; a rule's huge percentage is refused when written.
    big = {"productId": "P-ADV", "title": "adv", "price": {"amount": 10**16, "currency": "USD"}}
    assert_problem(send(stack, "PUT", "/v1/skus/ADV-PRICE", body=big), 422, "price.amount")
    rule = send(stack, "POST", "/v1/rules", body={"text": f"When an order for {SKU} comes in, raise the price of {SKU} by 99999999999999999999%."})
    assert rule.status == 422 and rule.json["error"]["code"] == "E_OUT_OF_RANGE", rule
    # A price at the limit with a rule that would pass it: the order is applied, the action fails, the server lives.
    top = {"productId": "P-ADV", "title": "adv top", "price": {"amount": 10**14, "currency": "USD"},
           "levels": [{"location": "reno", "onHand": 50}]}
    assert send(stack, "PUT", "/v1/skus/ADV-TOP", body=top).status == 200
    rule = send(stack, "POST", "/v1/rules", body={"text": "When an order for ADV-TOP comes in, raise the price of ADV-TOP by $1."})
    assert rule.status == 201, rule
    for _ in range(6):
        assert send(stack, "POST", "/v1/events", body={"type": "order.confirmed", "sku": "ADV-TOP", "qty": 1},
                    headers={"Idempotency-Key": uuid.uuid4().hex}).status == 202
    paused = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not paused:
        shown = send(stack, "GET", f"/v1/rules/{rule.json['id']}").json
        paused = shown.get("pausedReason")
        time.sleep(0.2)
    assert paused and "exceed" in paused, shown
    check_alive(stack, "inputs that used to crash")
    # They stay harmless after a restart.
    shelf.stop()
    stack.shelf = Shelf(stack.work, stack.db, stack.shelf_port)
    assert stack.stock(sku)["total"]["committed"] == committed + 1
    check_alive(stack, "restart after the crash inputs")


HARD_TEXTS = {
    "nul": "a\u0000b",
    "c0": "bell\u0007",
    "unit-separator": "a\u001fb",
    "record-separator": "a\u001eb",
    "del": "a\u007fb",
    "c1": "a\u0085b",
    "lone-surrogate": None,  # sent as a raw JSON escape below
    "rtl-override": "\u202eevil.exe",
    "nfc": "Caf\u00e9",
    "nfd": "Cafe\u0301",
    "emoji-4-byte": "Tee 👕🧵 \U0001F9F5",
    "zero-width": "a\u200bb",
    "tab-in-description": "line one\tand\nline two",
}


def test_text_round_trips_exactly_or_is_refused(stack):
    answers = {}
    for key, text in HARD_TEXTS.items():
        sku = f"ADV-TXT-{key.upper()}"
        if text is None:
            raw = ('{"productId":"P-TXT","title":"x\\ud800y","price":{"amount":100,"currency":"USD"}}').encode()
            reply = send(stack, "PUT", f"/v1/skus/{sku}", raw=raw)
        else:
            field = "description" if key == "tab-in-description" else "title"
            body = {"productId": "P-TXT", "title": "plain", "price": {"amount": 100, "currency": "USD"}, field: text}
            reply = send(stack, "PUT", f"/v1/skus/{sku}", body=body)
        if reply.status >= 400:
            problem = assert_problem(reply)
            assert problem.get("field") in ("title", "description", None), problem
            assert send(stack, "GET", f"/v1/stock/{sku}").status == 404
        answers[sku] = (reply.status, read_texts(stack, sku))
    refused = sorted(k for k, (status, _) in answers.items() if status >= 400)
    # Control characters are refused; everything else is kept.
    assert {f"ADV-TXT-{k.upper()}" for k in ("nul", "c0", "unit-separator", "record-separator", "del", "c1")} <= set(refused), refused
    for key in ("rtl-override", "nfc", "nfd", "emoji-4-byte", "zero-width", "tab-in-description"):
        sku = f"ADV-TXT-{key.upper()}"
        field = "description" if key == "tab-in-description" else "title"
        assert answers[sku][1][field] == HARD_TEXTS[key], (key, answers[sku])
        if field == "title":
            assert answers[sku][1]["name"] == HARD_TEXTS[key], (key, answers[sku])
    assert answers["ADV-TXT-NFC"][1]["title"] != answers["ADV-TXT-NFD"][1]["title"]  # not normalised: bytes kept as written
    stack.shelf.stop()
    stack.shelf = Shelf(stack.work, stack.db, stack.shelf_port)
    for sku, (status, before) in answers.items():
        assert read_texts(stack, sku) == before, sku
    check_alive(stack, "text round trip")
    report(f"adversarial: {len(HARD_TEXTS)} text hard cases, {len(refused)} refused with the field, the rest identical after a restart")


ID_TEXTS = {
    "rtl-override": "ADV-ID-\u202eRTL",
    "nfc": "ADV-ID-Caf\u00e9",
    "nfd": "ADV-ID-Cafe\u0301",
    "emoji-4-byte": "ADV-ID-\U0001F455",
    "zero-width": "ADV-ID-a\u200bb",
}
REFUSED_IDS = {"nul": "ADV-ID-a\u0000b", "c0": "ADV-ID-a\u0007b", "del": "ADV-ID-a\u007fb", "c1": "ADV-ID-a\u0085b"}
TAG_TEXTS = ["\u202eevil", "caf\u00e9", "cafe\u0301", "tee \U0001F455\U0001F9F5", "a\u200bb"]


def test_sku_ids_and_tags_round_trip_exactly_or_are_refused(stack):
    """The same hard cases as titles, in SKU ids (path and body) and tags: refused with the field, or kept scalar for scalar
    — NFC and NFD ids are two SKUs, each with its own stock — and identical after a restart."""
    def put(sku, on_hand, tags=None):
        body = {"productId": "P-ID", "title": "id case", "price": {"amount": 100, "currency": "USD"},
                "levels": [{"location": "reno", "onHand": on_hand}]}
        if tags is not None:
            body["tags"] = tags
        return send(stack, "PUT", f"/v1/skus/{urllib.parse.quote(sku, safe='')}", body=body)

    def read(sku):
        stock = send(stack, "GET", f"/v1/stock/{urllib.parse.quote(sku, safe='')}")
        listed = [i for i in send(stack, "GET", "/v1/catalog?q=ADV-ID&limit=200").json.get("items", []) if i.get("sku") == sku]
        return stock.status, stock.json.get("sku"), stock.json.get("total", {}).get("onHand"), [i["sku"] for i in listed]

    for key, sku in REFUSED_IDS.items():
        reply = put(sku, 1)
        assert reply.status in (400, 404, 422), (key, reply)
        assert send(stack, "GET", f"/v1/stock/{urllib.parse.quote(sku, safe='')}").status in (400, 404), key
    answers = {}
    for n, (key, sku) in enumerate(ID_TEXTS.items()):
        assert put(sku, 10 + n).status == 200, key
    for n, (key, sku) in enumerate(ID_TEXTS.items()):
        answers[key] = read(sku)
        assert answers[key] == (200, sku, 10 + n, [sku]), (key, answers[key])
    refused_tag = put("ADV-ID-TAGGED", 1, tags=["ok", "a\u0000b"])
    assert_problem(refused_tag, 422, "tags[1]")
    assert put("ADV-ID-TAGGED", 1, tags=TAG_TEXTS).status == 200

    def tags():
        items = send(stack, "GET", "/v1/catalog?q=ADV-ID-TAGGED&limit=10").json.get("items", [])
        return next(i["tags"] for i in items if i["sku"] == "ADV-ID-TAGGED")

    assert tags() == TAG_TEXTS
    stack.shelf.stop()
    stack.shelf = Shelf(stack.work, stack.db, stack.shelf_port)
    for key, sku in ID_TEXTS.items():
        assert read(sku) == answers[key], (key, read(sku), answers[key])
    assert tags() == TAG_TEXTS
    check_alive(stack, "SKU id and tag round trip")
    report(f"adversarial: {len(ID_TEXTS)} hard SKU ids kept exactly (NFC and NFD apart), {len(REFUSED_IDS)} refused, "
           f"{len(TAG_TEXTS)} hard tags identical after a restart")


def read_texts(stack, sku):
    """The SKU's texts as the catalog and the schema.org product answer them (None when the SKU does not exist)."""
    reply = send(stack, "GET", f"/v1/catalog?q={urllib.parse.quote(sku)}&limit=50")
    items = [i for i in reply.json.get("items", []) if i.get("sku") == sku]
    product = request("GET", stack.shelf.url(f"/v1/products/{sku}"), stack.admin, headers={"Accept": "application/ld+json"})
    ld = product.json if product.status == 200 else {}
    return {"title": items[0].get("title") if items else None, "name": ld.get("name"), "description": ld.get("description")}


def raw_exchange(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_requests_the_parser_refuses_get_problem_documents(stack):
    port = stack.shelf_port
    cases = [
        ("uri 1 MiB", b"GET /v1/catalog?q=" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("query 40 KiB", b"GET /v1/catalog?" + b"q=a&" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("header 1 MiB", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n", 431),
        ("10,000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(10000)) + b"\r\n", 431),
        ("NUL in a header value", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
        ("bad request line", b"GET\x01 / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("bad content-length", b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
    ]
    for name, data, status in cases:
        COUNTS["cases"] += 1
        out = raw_exchange(port, data)
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith(f"HTTP/1.1 {status}"), (name, lines[0])
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        assert headers.get("content-type") == "application/problem+json", (name, headers)
        assert headers.get("x-request-id"), (name, headers)
        problem = json.loads(body)
        assert problem["status"] == status and problem["type"].startswith("https://shelf.dev/problems/"), (name, problem)
    check_alive(stack, "parser refusals")


def test_early_refusals_answer_clients_that_write_first(stack):
    name, _ = generic_connection(stack, name="adv-early")
    cases = [
        ("401 bad token, 8 MiB", "/v1/events", {"Authorization": "Bearer shelf_nope_nope", "Idempotency-Key": "k"}, 8 << 20, 401),
        ("413 body over the limit, 16 MiB", "/v1/events", {"Authorization": f"Bearer {stack.admin}", "Idempotency-Key": "k2"}, 16 << 20, 413),
        ("webhook over the limit, 8 MiB", f"/v1/webhooks/{name}", {}, 8 << 20, 413),
    ]
    for label, path, headers, size, status in cases:
        COUNTS["cases"] += 1
        started = time.monotonic()
        reply = request("POST", stack.shelf.url(path), None, raw=b"x" * size, headers=headers, timeout=15)
        elapsed = time.monotonic() - started
        assert reply.status == status, (label, reply)
        assert elapsed < 5, (label, elapsed)
        report(f"adversarial: {label} answered {status} in {elapsed * 1000:.0f} ms")
    # The refused body is drained, not left in the socket: the same connection then serves the next request.
    with socket.create_connection(("127.0.0.1", stack.shelf_port), timeout=10) as s:
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer shelf_nope_nope\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 4194304\r\n\r\n" + b"x" * 65536)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 401"), first[:200]
        s.sendall(b"x" * (4194304 - 65536) + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        second = b""
        while b"HTTP/1.1 200" not in second:
            chunk = s.recv(65536)
            assert chunk, (first[:200], second[:300])
            second += chunk
    COUNTS["cases"] += 1
    check_alive(stack, "early refusals")


def test_a_damaged_stored_row_is_quarantined_and_the_rest_serves():
    with Stack(sim=False, prefix="shelf-adv-q-") as stack:
        assert stack.stock("TEE-BLK-S")["total"]["onHand"] >= 0
        stack.shelf.stop()
        with sqlite3.connect(stack.db) as conn:
            conn.execute("UPDATE stock SET committed = 'not a number' WHERE sku = 'TEE-BLK-S'")
            conn.execute("UPDATE stock SET onHand = ? WHERE sku = 'TEE-BLK-L'", (INT64_MAX,))
        # Rows damaged behind the ledger's back are only seen by reading them: the snapshot checkpoint the server left at
        # shutdown (which still holds the good values) is set aside, as the README says to after editing rows in SQL.
        os.remove(stack.db + ".snapshot")
        stack.shelf = Shelf(stack.work, stack.db, stack.shelf_port)
        ready = request("GET", stack.shelf.url("/readyz"))
        assert ready.status == 200 and ready.json["quarantined"] == 2, ready
        listed = {q["sku"]: q["reason"] for q in send(stack, "GET", "/v1/quarantine").json["quarantined"]}
        assert set(listed) == {"TEE-BLK-S", "TEE-BLK-L"}, listed
        assert send(stack, "GET", "/v1/offers/TEE-BLK-S").status == 404
        write = send(stack, "POST", "/v1/events", body={"type": "order.confirmed", "sku": "TEE-BLK-L", "qty": 1},
                     headers={"Idempotency-Key": uuid.uuid4().hex})
        assert write.status == 422 and "quarantined" in write.json["detail"], write
        assert send(stack, "GET", f"/v1/offers/{SKU}").status == 200
        metrics = request("GET", stack.shelf.url("/metrics")).raw.decode()
        assert 'shelf_quarantined_skus{seller="demo"} 2' in metrics
        check_alive(stack, "quarantine")
