"""The served contract equals openapi/shelf.yaml, and every operation it lists is routed (not 404, never 5xx).

Run by scripts/contract-tests.sh against a live server: SHELF_URL, SHELF_READ_TOKEN, SHELF_INGEST_TOKEN and
SHELF_ADMIN_TOKEN must be set (the admin token also carries read and ingest); the server runs the demo fixtures.
"""

import hashlib
import hmac
import json
import os
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = Path(os.environ.get("SHELF_OPENAPI", REPO / "openapi" / "shelf.yaml"))
CONTROLLERS = REPO / "Sources" / "ShelfServer" / "Controllers"
BASE = os.environ["SHELF_URL"].rstrip("/")
READ = os.environ["SHELF_READ_TOKEN"]
INGEST = os.environ["SHELF_INGEST_TOKEN"]
ADMIN = os.environ["SHELF_ADMIN_TOKEN"]
PLATFORM = os.environ["SHELF_PLATFORM_TOKEN"]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
RUN = uuid.uuid4().hex[:8]
SKU = f"CONTRACT-PY-{RUN}"
CONNECTION = f"contract-py-{RUN}"
LOCATION = f"contract-py-{RUN}"


def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def operations() -> list[tuple[str, str, str]]:
    return [
        (op["operationId"], method.upper(), path)
        for path, item in spec()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def call(method: str, path: str, token: str | None = ADMIN, body=None, headers=None, **params) -> requests.Response:
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if isinstance(body, RawBody):
        body = body.encode()
    elif body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    return requests.request(method, BASE + path, headers=h, data=body, params=params or None, timeout=10)


def sku_body(**extra) -> dict:
    return {
        "productId": "P-CONTRACT-PY",
        "title": "Contract tee",
        "price": {"amount": 1999, "currency": "USD"},
        "levels": [{"location": "reno", "onHand": 40}],
        "listings": [{"channel": "amazon"}, {"channel": "ebay", "buffer": 1}],
        **extra,
    }


def connection_body(kind: str = "amazon") -> dict:
    return {"channel": "amazon", "kind": kind, "baseURL": "http://127.0.0.1:9/c/contract", "webhookSecret": "contract-secret",
            "pushEnabled": False}


def location_body(id_: str) -> dict:
    return {
        "id": id_, "name": "Contract DC", "aliases": [], "timeZone": "America/Chicago", "cutoff": "15:00", "handlingDays": 1,
        "holidays": ["2026-12-25"], "country": "US", "postalCode": "75201", "priority": 50,
        "services": [{"carrier": "ups", "service": "ground", "transit": {"US:7": {"min": 1, "max": 2}}}],
    }


@pytest.fixture(scope="module")
def sku() -> str:
    r = call("PUT", f"/v1/skus/{SKU}", body=sku_body())
    assert r.status_code == 200, r.text
    return SKU


def fresh_sku() -> str:
    name = f"CONTRACT-PY-{uuid.uuid4().hex[:8].upper()}"  # upper case, so rules can name it
    assert call("PUT", f"/v1/skus/{name}", body=sku_body()).status_code == 200
    return name


def fresh_connection(kind: str = "amazon") -> str:
    name = f"contract-py-{uuid.uuid4().hex[:8]}"
    assert call("PUT", f"/v1/connections/{name}", body=connection_body(kind)).status_code == 201
    return name


def fresh_token_id() -> str:
    r = call("POST", "/v1/tokens", body={"scopes": ["read"], "ttlSeconds": 600, "label": "pytest"})
    assert r.status_code == 201, r.text
    return r.json()["info"]["id"]


def fresh_hold(sku: str) -> str:
    r = call("POST", "/v1/reservations", token=READ, body={"sku": sku, "qty": 1, "ttlSeconds": 600}, headers=idempotency_key())
    assert r.status_code == 201, r.text
    return r.json()["id"]


def signed_webhook(sku: str):
    """A `generic` connection and an order delivery signed the way that connector verifies it."""
    name, secret = fresh_connection(kind="generic"), "contract-secret"
    body = json.dumps({"type": "order.placed", "orderId": f"o-{uuid.uuid4().hex[:8]}", "lines": [{"sku": sku, "quantity": 1}]})
    signature = "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    headers = {"X-Shelf-Signature": signature, "X-Shelf-Event-Id": uuid.uuid4().hex, "Content-Type": "application/json"}
    return ("POST", f"/v1/webhooks/{name}", None, RawBody(body), headers, {})


def dead_letter_id() -> str:
    r = call("GET", "/v1/dlq", limit=1)
    assert r.status_code == 200, r.text
    letters = r.json()["deadLetters"]
    return str(letters[0]["id"]) if letters else "0"


def notification_id() -> str:
    r = call("GET", "/v1/notifications", limit=1)
    assert r.status_code == 200, r.text
    notifications = r.json()["notifications"]
    return str(notifications[0]["id"]) if notifications else "0"


def rule_text() -> str:
    """A sentence the demo seller's vocabulary understands, for a SKU of this run (so its rule never fires elsewhere)."""
    return f"When stock of CONTRACT-PY-{RUN.upper()} drops below 1, notify ops."


def fresh_rule() -> str:
    r = call("POST", "/v1/rules", body={"text": rule_text()})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def watch_body(sku: str) -> dict:
    return {"skus": [sku], "conditions": [{"type": "back_in_stock", "qty": 1}],
            "target": {"url": "http://127.0.0.1:9/contract-watch", "secret": "contract-watch-secret"}}


def fresh_watch(sku: str) -> str:
    r = call("POST", "/v1/watches", token=READ, body=watch_body(sku))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def reconciled() -> None:
    """At least one reconciliation pass has run, so the latest report exists."""
    assert call("POST", "/v1/reconciliation:run").status_code == 200


def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one of the document's component schemas."""
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec()["components"]})


class RawBody(str):
    """A body sent exactly as given (already serialized)."""


def idempotency_key() -> dict:
    return {"Idempotency-Key": f"pytest-{uuid.uuid4().hex}"}


# One valid request per operationId, built when used: sku -> (method, path, token, body, extra headers, query).
VALID = {
    "healthz": lambda sku: ("GET", "/healthz", None, None, None, {}),
    "readyz": lambda sku: ("GET", "/readyz", None, None, None, {}),
    "livez": lambda sku: ("GET", "/livez", None, None, None, {}),
    "listChannels": lambda sku: ("GET", "/v1/channels", READ, None, None, {}),
    "upsertChannel": lambda sku: ("PUT", "/v1/channels/contract-market", ADMIN, {"id": "contract-market", "name": "Contract Market",
                                                                                "aliases": ["CM"]}, None, {}),
    "createSeller": lambda sku: ("POST", "/v1/sellers", PLATFORM, {"id": f"contract-{uuid.uuid4().hex[:10]}", "name": "Contract Seller",
                                                                 "currency": "EUR", "timeZone": "Europe/Berlin"}, None, {}),
    "listSellers": lambda sku: ("GET", "/v1/sellers", PLATFORM, None, None, {}),
    "getSeller": lambda sku: ("GET", "/v1/sellers/demo", PLATFORM, None, None, {}),
    "createSellerToken": lambda sku: ("POST", "/v1/sellers/demo/tokens", PLATFORM, {"scopes": ["read"], "ttlSeconds": 600}, None, {}),
    "getOpenAPIDocument": lambda sku: ("GET", "/openapi.yaml", None, None, None, {}),
    "getOffer": lambda sku: ("GET", f"/v1/offers/{sku}", READ, None, None, {"qty": 2, "country": "US", "postalCode": "10001"}),
    "getOffersBatch": lambda sku: ("POST", "/v1/offers:batch", READ, {"items": [{"sku": sku, "qty": 2}], "country": "US"}, None, {}),
    "listCatalog": lambda sku: ("GET", "/v1/catalog", READ, None, None, {"limit": 5}),
    "getStock": lambda sku: ("GET", f"/v1/stock/{sku}", READ, None, None, {}),
    "getPrices": lambda sku: ("GET", f"/v1/prices/{sku}", READ, None, None, {}),
    "getDelivery": lambda sku: ("GET", f"/v1/delivery/{sku}", READ, None, None, {"qty": 1, "country": "US", "postalCode": "94105"}),
    "postEvent": lambda sku: ("POST", "/v1/events", INGEST, {"type": "stock.received", "sku": sku, "qty": 3, "location": "reno"},
                              idempotency_key(), {}),
    "upsertSku": lambda sku: ("PUT", f"/v1/skus/{sku}", ADMIN, sku_body(), None, {}),
    "deleteSku": lambda sku: ("DELETE", f"/v1/skus/{fresh_sku()}", ADMIN, None, None, {}),
    "importSkus": lambda sku: ("POST", "/v1/skus:import", ADMIN, {"items": [sku_body(sku=f"{sku}-IMP")]}, None, {}),
    "upsertListing": lambda sku: ("PUT", f"/v1/skus/{sku}/listings/walmart", ADMIN, {"buffer": 2}, None, {}),
    "listLocations": lambda sku: ("GET", "/v1/locations", READ, None, None, {}),
    "upsertLocation": lambda sku: ("PUT", f"/v1/locations/{LOCATION}", ADMIN, location_body(LOCATION), None, {}),
    "createToken": lambda sku: ("POST", "/v1/tokens", ADMIN, {"scopes": ["read"], "ttlSeconds": 600}, None, {}),
    "listTokens": lambda sku: ("GET", "/v1/tokens", ADMIN, None, None, {}),
    "revokeToken": lambda sku: ("DELETE", f"/v1/tokens/{fresh_token_id()}", ADMIN, None, None, {}),
    "listConnections": lambda sku: ("GET", "/v1/connections", ADMIN, None, None, {}),
    "getConnection": lambda sku: ("GET", f"/v1/connections/{fresh_connection()}", ADMIN, None, None, {}),
    "putConnection": lambda sku: ("PUT", f"/v1/connections/{CONNECTION}", ADMIN, connection_body(), None, {}),
    "deleteConnection": lambda sku: ("DELETE", f"/v1/connections/{fresh_connection()}", ADMIN, None, None, {}),
    "listAudit": lambda sku: ("GET", "/v1/audit", ADMIN, None, None, {"sku": sku, "limit": 10}),
    "createReservation": lambda sku: ("POST", "/v1/reservations", READ, {"sku": sku, "qty": 1, "ttlSeconds": 600}, idempotency_key(), {}),
    "getReservation": lambda sku: ("GET", f"/v1/reservations/{fresh_hold(sku)}", READ, None, None, {}),
    "releaseReservation": lambda sku: ("DELETE", f"/v1/reservations/{fresh_hold(sku)}", READ, None, None, {}),
    "commitReservation": lambda sku: ("POST", f"/v1/reservations/{fresh_hold(sku)}/commit", READ, None, None, {}),
    "postWebhook": signed_webhook,
    "listDeadLetters": lambda sku: ("GET", "/v1/dlq", ADMIN, None, None, {"limit": 10}),
    "replayDeadLetter": lambda sku: ("POST", f"/v1/dlq/{dead_letter_id()}/replay", ADMIN, None, None, {}),
    "discardDeadLetter": lambda sku: ("DELETE", f"/v1/dlq/{dead_letter_id()}", ADMIN, None, None, {}),
    "replayAllDeadLetters": lambda sku: ("POST", "/v1/dlq:replay-all", ADMIN, None, None, {}),
    "listNotifications": lambda sku: ("GET", "/v1/notifications", ADMIN, None, None, {"state": "pending", "limit": 10}),
    "replayNotification": lambda sku: ("POST", f"/v1/notifications/{notification_id()}/replay", ADMIN, None, None, {}),
    "replayDeadNotifications": lambda sku: ("POST", "/v1/notifications:replay-dead", ADMIN, None, None, {}),
    "getReconciliation": lambda sku: (reconciled(), ("GET", "/v1/reconciliation", ADMIN, None, None, {}))[1],
    "runReconciliation": lambda sku: ("POST", "/v1/reconciliation:run", ADMIN, None, None, {}),
    "parseRule": lambda sku: ("POST", "/v1/rules:parse", ADMIN, {"text": rule_text()}, None, {}),
    "createRule": lambda sku: ("POST", "/v1/rules", ADMIN, {"text": rule_text()}, None, {}),
    "listRules": lambda sku: ("GET", "/v1/rules", ADMIN, None, None, {}),
    "getRule": lambda sku: ("GET", f"/v1/rules/{fresh_rule()}", ADMIN, None, None, {}),
    "updateRule": lambda sku: ("PATCH", f"/v1/rules/{fresh_rule()}", ADMIN, {"enabled": False}, None, {}),
    "deleteRule": lambda sku: ("DELETE", f"/v1/rules/{fresh_rule()}", ADMIN, None, None, {}),
    "createWatch": lambda sku: ("POST", "/v1/watches", READ, watch_body(sku), None, {}),
    "listWatches": lambda sku: ("GET", "/v1/watches", READ, None, None, {}),
    "getWatch": lambda sku: ("GET", f"/v1/watches/{fresh_watch(sku)}", READ, None, None, {}),
    "deleteWatch": lambda sku: ("DELETE", f"/v1/watches/{fresh_watch(sku)}", READ, None, None, {}),
    "listWatchDeliveries": lambda sku: ("GET", f"/v1/watches/{fresh_watch(sku)}/deliveries", READ, None, None, {}),
    "replayWatchDeliveries": lambda sku: ("POST", f"/v1/watches/{fresh_watch(sku)}/deliveries:replay", READ, None, None, {}),
    "getConsole": lambda sku: ("GET", "/console", None, None, None, {}),
    "getConsoleAsset": lambda sku: ("GET", "/console/app.js", None, None, None, {}),
    "getMetrics": lambda sku: ("GET", "/metrics", None, None, None, {}),
    "streamEvents": lambda sku: ("GET", "/v1/stream", READ, None, None, {"max": 1, "lastEventId": 0}),
    "getACPFeed": lambda sku: ("GET", "/v1/feed/acp", READ, None, None, {}),
    "getGoogleFeed": lambda sku: ("GET", "/v1/feed/google.tsv", READ, None, None, {"country": "US"}),
    "getProductJSONLD": lambda sku: ("GET", f"/v1/products/{sku}", READ, None, {"Accept": "application/ld+json"}, {"country": "US"}),
    "getUCPProfile": lambda sku: ("GET", "/.well-known/ucp", None, None, None, {}),
    "searchUCPCatalog": lambda sku: ("POST", "/ucp/catalog/search", READ, {"query": "tee", "pagination": {"limit": 2}}, None, {}),
    "lookupUCPCatalog": lambda sku: ("POST", "/ucp/catalog/lookup", READ, {"ids": [sku]}, None, {}),
    "getUCPProduct": lambda sku: ("GET", f"/ucp/catalog/product/{sku}", READ, None, None, {}),
    "postMCP": lambda sku: ("POST", "/mcp", READ, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                            {"Accept": "application/json, text/event-stream"}, {}),
    "getMCP": lambda sku: ("GET", "/mcp", READ, None, {"Accept": "text/event-stream"}, {}),
    "deleteMCP": lambda sku: ("DELETE", "/mcp", READ, None, None, {}),
    "getSpikePolicy": lambda sku: ("GET", "/v1/settings/spikes", ADMIN, None, None, {}),
    "listQuarantine": lambda sku: ("GET", "/v1/quarantine", ADMIN, None, None, {}),
    "putSpikePolicy": lambda sku: ("PUT", "/v1/settings/spikes", ADMIN, {"factor": 6, "minimumUnits": 5}, None, {}),
}


def test_served_document_equals_the_file_on_disk():
    r = requests.get(BASE + "/openapi.yaml", timeout=10)
    assert r.status_code == 200, f"GET /openapi.yaml answered {r.status_code}: {r.text[:300]}"
    assert r.headers["Content-Type"].startswith("application/yaml")
    assert r.content == SPEC_PATH.read_bytes(), "the served OpenAPI document differs from openapi/shelf.yaml"
    etag = r.headers["ETag"]
    again = requests.get(BASE + "/openapi.yaml", headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""


def test_every_operation_has_a_valid_request():
    listed = {op for op, _, _ in operations()}
    assert not sorted(listed - VALID.keys()), f"add a valid request for {sorted(listed - VALID.keys())} to {Path(__file__).name}"
    assert not sorted(VALID.keys() - listed), f"operations {sorted(VALID.keys() - listed)} are not in {SPEC_PATH.name}"


@pytest.mark.parametrize(("op", "method", "path"), operations(), ids=[o[0] for o in operations()])
def test_every_documented_route_is_served(op, method, path, sku):
    assert op in VALID, f"no valid request for {op}"
    req_method, req_path, token, body, headers, query = VALID[op](sku)
    assert req_method == method, f"{op}: the table says {req_method}, the document {method}"
    r = call(req_method, req_path, token=token, body=body, headers=headers, **query)
    if op == "getOpenAPIDocument" and r.status_code == 404:
        pytest.fail("GET /openapi.yaml is routed but the document is not bundled (404): " + r.text)
    if (op, req_path) in (("replayDeadLetter", "/v1/dlq/0/replay"), ("discardDeadLetter", "/v1/dlq/0"),
                          ("replayNotification", "/v1/notifications/0/replay")):
        # The queue is empty, so no valid id exists: the route must still answer a not-found problem for the id.
        assert r.status_code == 404 and r.json().get("field") == "id", r.text
        return
    if op in ("getMCP", "deleteMCP"):
        # The MCP endpoint is stateless and sends no server-initiated stream: only POST is offered.
        assert r.status_code == 405 and r.headers["Allow"] == "POST", r.text
        return
    assert r.status_code != 404, f"{method} {req_path} answered 404: {r.text[:300]}"
    assert r.status_code < 500, f"{method} {req_path} answered {r.status_code}: {r.text[:300]}"
    documented = spec()["paths"][path][method.lower()]["responses"]
    assert str(r.status_code) in documented, f"{method} {req_path} answered undocumented {r.status_code}"
    assert 200 <= r.status_code < 300, f"{method} {req_path} answered {r.status_code}: {r.text[:300]}"


def mounts() -> dict[str, str]:
    """Controller name → the path its route collection is mounted at, read from `ShelfApplication.buildRouter`: the ones in
    the `v1` list at `/v1`, the others at the root."""
    source = (REPO / "Sources" / "ShelfServer" / "ShelfApplication.swift").read_text(encoding="utf-8")
    v1 = re.search(r"let v1: \[RouteCollection<ShelfRequestContext>\] = \[(.*?)\]", source, re.S)
    assert v1, "ShelfApplication.buildRouter no longer lists the /v1 route collections as `let v1: [...] = [...]`"
    return {name: "/v1" for name in re.findall(r"(\w+)Controller\(", v1.group(1))}


def registered_routes() -> set[tuple[str, str]]:
    """(METHOD, /openapi/{path}) for every `.<method>("…")` in the server's controllers: on the resource's route collection
    (open routes) or on a scoped group (`routes.requiring(.read, env.tokens).get("offers/:sku")`, one `.get("…")` a line),
    prefixed with the path the collection is mounted at."""
    routes = set()
    mounted = mounts()
    for source in sorted(CONTROLLERS.glob("*.swift")):
        prefix = mounted.get(source.stem.removesuffix("Controller"), "")
        block = re.search(r"var routes: RouteCollection<ShelfRequestContext> \{(.*?)return routes", source.read_text(encoding="utf-8"), re.S)
        assert block, f"{source.name} has no `var routes: RouteCollection<ShelfRequestContext>`"
        for method, path in re.findall(r'\.(get|put|post|delete|patch|head)\(\s*"([^"]*)"', block.group(1)):
            full = prefix + "/" + path.lstrip("/") if prefix else path
            routes.add((method.upper(), re.sub(r"(?<=/):([A-Za-z_][A-Za-z0-9_]*)", r"{\1}", full)))
    return routes


def test_every_registered_route_is_documented_and_nothing_else():
    registered = registered_routes()
    assert registered, f"no routes found under {CONTROLLERS}"
    documented = {(method, path) for _, method, path in operations()}
    assert not sorted(registered - documented), f"routes missing from {SPEC_PATH.name}: {sorted(registered - documented)}"
    assert not sorted(documented - registered), f"documented operations no controller registers: {sorted(documented - registered)}"


def test_unknown_route_is_a_not_found_problem():
    r = call("GET", "/v1/no-such-route")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["type"] == "https://shelf.dev/problems/not-found"


def test_missing_token_is_401_with_bearer_challenge(sku):
    r = call("GET", f"/v1/offers/{sku}", token=None)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="shelf"'
    assert r.json()["type"] == "https://shelf.dev/problems/unauthorized"


def test_read_token_cannot_ingest_or_administer(sku):
    assert call("POST", "/v1/events", token=READ, body={"type": "stock.set", "sku": sku, "qty": 1},
                headers={"Idempotency-Key": "pytest-forbidden"}).status_code == 403
    assert call("GET", "/v1/tokens", token=READ).status_code == 403
    assert call("GET", "/v1/tokens", token=INGEST).status_code == 403


def test_idempotency_duplicate_and_conflict(sku):
    key = {"Idempotency-Key": f"pytest-idem-{uuid.uuid4().hex}"}
    body = {"type": "stock.adjusted", "sku": sku, "qty": -1, "location": "reno"}
    first = call("POST", "/v1/events", token=INGEST, body=body, headers=key)
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    again = call("POST", "/v1/events", token=INGEST, body=body, headers=key)
    assert again.status_code == 202
    assert again.json() == {**first.json(), "status": "duplicate"}
    other = call("POST", "/v1/events", token=INGEST, body={**body, "qty": -2}, headers=key)
    assert other.status_code == 422
    assert other.json()["type"] == "https://shelf.dev/problems/idempotency-conflict"


def test_etag_answers_304(sku):
    r = call("GET", f"/v1/prices/{sku}", token=READ)
    assert r.status_code == 200
    again = call("GET", f"/v1/prices/{sku}", token=READ, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_batch_over_500_items_is_413(sku):
    r = call("POST", "/v1/offers:batch", token=READ, body={"items": [{"sku": sku}] * 501})
    assert r.status_code == 413
    assert r.json()["type"] == "https://shelf.dev/problems/payload-too-large"


@pytest.fixture(scope="module")
def depot() -> str:
    """A location only these tests name (the fuzzer may rename the demo locations), called "Pytest Depot" in sentences."""
    id_ = f"contract-py-depot-{RUN}"
    r = call("PUT", f"/v1/locations/{id_}", body={**location_body(id_), "name": "Pytest Depot", "aliases": ["pytest depot"]})
    assert r.status_code == 200, r.text
    return id_


# One sentence per action type and schedule kind (demo seller vocabulary); each must parse into the documented `Rule`.
RULE_SENTENCES = [
    "When stock of SKU-123 drops below 10, notify ops and pause the Amazon listing.",
    "As soon as SKU-9 is back in stock, resume the Etsy listing.",
    "When stock of SKU-1 drops below 5, set safety stock to 3 at the Pytest Depot.",
    "When demand spikes for SKU-1, raise safety stock by 50%.",
    "Whenever a SKU starting with TEE- drops to 3 or fewer units, hold back 2 units on Walmart.",
    "When the price of SKU-1 is between $5 and $10, notify ops.",
    "When stock of SKU-1 drops below 5, raise the price by 2.5%",
    "When stock of SKU-1 drops below 5, pause it on all channels except Amazon.",
    "When an order for SKU-1 is placed, tag the order vip and pause SKU-3 on Amazon.",
    "When stock of SKU-1 drops below 5 unless stock of SKU-2 is above 10, notify ops.",
    "When SKU-5 goes out of stock at the Pytest Depot, reroute orders to the Pytest Depot.",
    "When SKU-22 drops below 15 units, reorder 100 from Globex unless we've sold fewer than 10 in the last 7 days.",
    "When the Shopify price of TV-55-OLED falls below $1,299, lower the Amazon price by $50.",
    "When SKU-73 drops below 50 units, set the price to $29.99 on Amazon and eBay, then notify ops.",
    "When Amazon inventory for SKU-42 hits 0, prioritize sync for SKU-42 and notify the on-call.",
    "Every Monday and Friday at 9am, notify ops.",
    "Every 90 minutes, reconcile all channels.",
]


@pytest.mark.parametrize("text", RULE_SENTENCES)
def test_parsed_rules_match_the_documented_rule_shape(text, depot):
    r = call("POST", "/v1/rules:parse", body={"text": text})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema_validator("RuleParseResult").iter_errors(body)]
    assert not errors, f"{text!r} parsed into {json.dumps(body['rule'])}, which the document does not allow: {errors}"
    assert r.content == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(), "keys are not sorted"
    stored = call("POST", "/v1/rules", body={"text": text})
    assert stored.status_code == 201, stored.text
    assert call("DELETE", f"/v1/rules/{stored.json()['id']}").status_code == 204
    assert (stored.json()["rule"], stored.json()["explain"]) == (body["rule"], body["explain"]), "the stored rule differs from the parsed one"


def test_unreadable_rule_is_a_validation_problem_with_the_parser_error():
    text = "When SKU-9 sells out, pause it on Amazn."
    r = call("POST", "/v1/rules:parse", body={"text": text})
    assert r.status_code == 422
    assert r.headers["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "https://shelf.dev/problems/validation" and problem["field"] == "text"
    error = problem["error"]
    assert not list(schema_validator("RuleParseError").iter_errors(error)), error
    assert error["code"] == "E_UNKNOWN_CHANNEL" and "Amazon" in error["suggestions"]
    assert text[error["span"]["start"]:error["span"]["end"]] == error["found"] == "Amazn"
    assert call("POST", "/v1/rules", body={"text": text}).json()["error"] == error, "store and dry run must read alike"


def test_rule_lifecycle():
    before = {rule["id"] for rule in call("GET", "/v1/rules").json()["rules"]}
    created = call("POST", "/v1/rules", body={"text": rule_text()})
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["enabled"] is True and rule["text"] == rule_text() and rule["id"] not in before
    assert rule["rule"] == call("POST", "/v1/rules:parse", body={"text": rule_text()}).json()["rule"]
    listed = call("GET", "/v1/rules").json()["rules"]
    assert [r for r in listed if r["id"] == rule["id"]] == [rule]
    patched = call("PATCH", f"/v1/rules/{rule['id']}", body={"enabled": False})
    assert patched.status_code == 200 and patched.json() == {**rule, "enabled": False}
    assert call("GET", f"/v1/rules/{rule['id']}").json()["enabled"] is False
    assert call("DELETE", f"/v1/rules/{rule['id']}").status_code == 204
    gone = call("GET", f"/v1/rules/{rule['id']}")
    assert gone.status_code == 404 and gone.json()["type"] == "https://shelf.dev/problems/not-found"
    assert call("DELETE", f"/v1/rules/{rule['id']}").status_code == 404


def test_reconciliation_reports_unreachable_connections_quickly():
    name = fresh_connection()  # its baseURL is 127.0.0.1:9, where nothing listens
    started = time.monotonic()
    r = call("POST", "/v1/reconciliation:run")
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    report = r.json()
    assert not list(schema_validator("ReconciliationReport").iter_errors(report)), report
    assert name in report["connections"] and name in report["errors"]
    assert elapsed < 8, f"a pass over unreachable connections took {elapsed:.1f} s"
    latest = call("GET", "/v1/reconciliation")
    assert latest.status_code == 200 and latest.json()["startedAt"] >= report["startedAt"]


def audit_events(sku: str, wanted, timeout: float = 10.0) -> list[dict]:
    """The SKU's audit trail once `wanted(events)` holds (rules and reconciliation record asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        r = call("GET", "/v1/audit", sku=sku, limit=1000)
        assert r.status_code == 200, r.text
        events = r.json()["events"]
        if wanted(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def assert_documented_events(events: list[dict]) -> None:
    validator = schema_validator("LedgerEvent")
    errors = [f"{e['event']['type']} {list(err.absolute_path)}: {err.message}" for e in events for err in validator.iter_errors(e)]
    assert not errors, errors


def test_a_rule_that_fires_records_documented_events():
    name = fresh_sku()
    text = f"When stock of {name} drops below 5, notify ops and pause the Amazon listing."
    created = call("POST", "/v1/rules", body={"text": text})
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    try:
        set_stock = {"type": "stock.set", "sku": name, "qty": 0, "location": "reno"}
        assert call("POST", "/v1/events", token=INGEST, body=set_stock, headers=idempotency_key()).status_code == 202
        events = audit_events(name, lambda evs: {"rule.acted", "listing.paused"} <= {e["event"]["type"] for e in evs})
        assert_documented_events(events)
        acted = [e for e in events if e["event"]["type"] == "rule.acted"]
        paused = [e for e in events if e["event"]["type"] == "listing.paused"]
        assert acted and paused, [e["event"]["type"] for e in events]
        assert acted[0]["event"]["ruleId"] == rule_id and acted[0]["source"] == f"rule:{rule_id}" and "ops" in acted[0]["event"]["note"]
        assert paused[0]["event"]["ruleId"] == rule_id and paused[0]["event"]["channel"] == "amazon"
        listings = [e["event"]["listings"] for e in events if e["event"]["type"] == "sku.upserted"][0]
        assert all(listing["references"] == {} for listing in listings)
    finally:
        call("DELETE", f"/v1/rules/{rule_id}")


class FakeGenericChannel(ThreadingHTTPServer):
    """A `generic` channel on 127.0.0.1 whose inventory page reports `quantity` units of one SKU."""

    def __init__(self, sku: str, quantity: int):
        self.sku, self.quantity = sku, quantity

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler):  # noqa: N805 - the handler instance; `self` is the server
                body = json.dumps({"items": [{"sku": self.sku, "externalId": self.sku, "quantity": self.quantity}]}).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_reconciliation_records_and_reports_a_variance():
    name = fresh_sku()
    channel = FakeGenericChannel(name, 987)
    try:
        connection = f"contract-py-{uuid.uuid4().hex[:8]}"
        body = {**connection_body("generic"), "baseURL": f"http://127.0.0.1:{channel.server_address[1]}/generic"}
        assert call("PUT", f"/v1/connections/{connection}", body=body).status_code == 201
        r = call("POST", "/v1/reconciliation:run")
        assert r.status_code == 200, r.text
        report = r.json()
        assert not list(schema_validator("ReconciliationReport").iter_errors(report)), report
        assert connection not in report["errors"], report["errors"]
        mine = [v for v in report["variances"] if v["connection"] == connection]
        assert mine == [{"sku": name, "connection": connection, "channel": "amazon", "expected": 40, "reported": 987}], mine
        assert report["variancesFound"] == len(report["variances"]) and report["healed"] == report["variancesFound"]
        events = audit_events(name, lambda evs: any(e["event"]["type"] == "inventory.variance_detected" for e in evs))
        assert_documented_events(events)
        variance = [e for e in events if e["event"]["type"] == "inventory.variance_detected"][0]
        assert variance["source"] == f"poll:{connection}"
        assert (variance["event"]["channel"], variance["event"]["qty"]) == ("amazon", 987)
    finally:
        channel.shutdown()
