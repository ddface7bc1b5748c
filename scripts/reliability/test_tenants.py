"""Sellers are real tenants: a platform operator creates a second seller over HTTP, gives it its first token, and both sellers
then hold data that deliberately shares SKU ids, location ids, connection ids (with different webhook secrets), external
event ids and idempotency keys. Every kind of read and write — stock, offers, catalog, feeds, UCP, MCP, SSE, rules, DLQ,
audit, reservations, webhooks — stays inside its seller; the platform token reads no seller's data and no seller token can
create sellers. Runs against the real `shelf serve` (and `shelf-sim` as the demo seller's channels) on loopback."""
import json
import socket
import subprocess
import time
import urllib.request

import pytest

from shelfproc import SHELF, Stack, assert_problem, eventually, generic_webhook, request

SKU = "TEE-RED-M"  # a demo SKU the second seller also creates, with other stock and price
ACME = "acme"
SHARED_KEY = "shared-idempotency-key-1"
SHARED_CONNECTION = "amazon-us"  # a demo connection id the second seller also uses, with its own secret


def platform_token(db):
    return subprocess.check_output([SHELF, "token", "create", "--database", db, "--platform", "--label", "operator"], timeout=60).decode().strip()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_webhook(shelf, connection, secret, payload):
    raw, headers = generic_webhook(payload, secret)
    return request("POST", shelf.url(f"/v1/webhooks/{connection}"), None, raw=raw, headers=headers)


def mcp_offer(shelf, token, sku):
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_offer", "arguments": {"sku": sku}}}
    reply = request("POST", shelf.url("/mcp"), token, message, headers={"Accept": "application/json, text/event-stream"}, timeout=15)
    assert reply.status == 200, reply
    return reply.json["result"]


def sse_events(shelf, token, count):
    """The first `count` events of the seller's stream from the beginning (`lastEventId=0`), parsed."""
    req = urllib.request.Request(shelf.url(f"/v1/stream?lastEventId=0&max={count}"), headers={"Authorization": f"Bearer {token}"})
    out = []
    deadline = time.monotonic() + 20
    with urllib.request.urlopen(req, timeout=15) as r:
        for line in r:  # heartbeats arrive every few seconds, so the deadline is checked even when no event comes
            line = line.decode().strip()
            if line.startswith("data:"):
                out.append(json.loads(line[5:]))
            if len(out) >= count or time.monotonic() > deadline:
                break
    return out


@pytest.fixture(scope="module")
def tenants():
    with Stack(keep_skus={SKU, "MUG-RED-11OZ"}, prefix="shelf-tenants-") as s:
        s.platform = platform_token(s.db)
        yield s


def test_only_the_platform_operator_creates_sellers(tenants):
    shelf = tenants.shelf
    body = {"id": ACME, "name": "Acme Outfitters", "currency": "EUR", "timeZone": "Europe/Berlin", "holidays": ["2026-12-24", "2026-12-25"]}
    # A seller's admin token cannot create or list sellers; the platform token reads no seller's data.
    assert_problem(shelf.call("POST", "/v1/sellers", tenants.admin, body), 403)
    assert_problem(shelf.call("GET", "/v1/sellers", tenants.admin), 403)
    for path in (f"/v1/stock/{SKU}", "/v1/catalog", "/v1/audit", "/v1/tokens", "/v1/dlq"):
        assert_problem(shelf.call("GET", path, tenants.platform), 403)
    # Bad input names the field; nothing is created.
    for bad, field in [(dict(body, id="Acme Corp"), "id"), (dict(body, id="*"), "id"), (dict(body, currency="EUX"), "currency"),
                       (dict(body, timeZone="Mars/Olympus"), "timeZone"), (dict(body, holidays=["2026-02-30"]), "holidays[0]"),
                       (dict(body, name="A\u0000B"), "name"), (dict(body, color="red"), "color")]:
        assert_problem(shelf.call("POST", "/v1/sellers", tenants.platform, bad), 422, field)
    assert [s["id"] for s in shelf.call("GET", "/v1/sellers", tenants.platform).json["sellers"]] == ["demo"]
    created = shelf.call("POST", "/v1/sellers", tenants.platform, body)
    assert created.status == 201, created
    assert created.json["id"] == ACME and created.json["currency"] == "EUR" and created.json["holidays"] == ["2026-12-24", "2026-12-25"]
    assert created.json["skus"] == 0
    assert_problem(shelf.call("POST", "/v1/sellers", tenants.platform, body), 409, "id", kind="conflict")
    assert sorted(s["id"] for s in shelf.call("GET", "/v1/sellers", tenants.platform).json["sellers"]) == ["acme", "demo"]
    # Its first admin token, from the operator; the operator cannot mint a platform-scoped seller token.
    assert_problem(shelf.call("POST", f"/v1/sellers/{ACME}/tokens", tenants.platform, {"scopes": ["platform"]}), 422, "scopes[0]")
    assert_problem(shelf.call("POST", "/v1/sellers/nobody/tokens", tenants.platform, {"scopes": ["admin"]}), 404)
    issued = shelf.call("POST", f"/v1/sellers/{ACME}/tokens", tenants.platform, {"scopes": ["admin"], "label": "acme first"})
    assert issued.status == 201 and issued.json["info"]["seller"] == ACME, issued
    tenants.acme = issued.json["token"]
    # A seller admin cannot mint a platform token for itself either.
    assert_problem(shelf.call("POST", "/v1/tokens", tenants.acme, {"scopes": ["platform"]}), 422, "scopes[0]")


def setup_acme(tenants):
    shelf, acme = tenants.shelf, tenants.acme
    # A new seller starts with no channels: it names its own (the same ids as the demo seller's).
    assert shelf.call("PUT", "/v1/channels/amazon", acme, {"id": "amazon", "name": "Amazon", "aliases": ["AMZ"]}).status == 200
    assert [c["id"] for c in shelf.call("GET", "/v1/channels", acme).json["channels"]] == ["amazon"]
    location = {"id": "newark", "name": "Acme Newark", "timeZone": "America/New_York", "cutoff": "14:00", "handlingDays": 1, "country": "US",
                "postalCode": "07101", "priority": 0, "aliases": [], "holidays": [],
                "services": [{"carrier": "ups", "service": "ground", "transit": {"US:1": {"min": 1, "max": 3}}}]}
    assert shelf.call("PUT", "/v1/locations/newark", acme, location).status in (200, 201)
    item = {"productId": "P-TEE-RED", "title": "Acme red tee", "price": {"amount": 4242, "currency": "EUR"},
            "levels": [{"location": "newark", "onHand": 7}], "listings": [{"channel": "amazon", "externalId": "ACME-TEE"}]}
    reply = shelf.call("PUT", f"/v1/skus/{SKU}", acme, item)
    assert reply.status == 200, reply
    # The same connection id as the demo seller's, with its own secret, pointing at a port nobody listens on (its pushes fail).
    connection = {"channel": "amazon", "kind": "generic", "baseURL": f"http://127.0.0.1:{closed_port()}/acme", "webhookSecret": "acme-secret",
                  "pushEnabled": True}
    reply = shelf.call("PUT", f"/v1/connections/{SHARED_CONNECTION}", acme, connection)
    assert reply.status in (200, 201), reply


def test_two_sellers_with_the_same_ids_never_meet(tenants):
    shelf, demo, acme = tenants.shelf, tenants.admin, tenants.acme
    setup_acme(tenants)
    demo_before = tenants.stock(SKU, demo)
    demo_connection = shelf.call("GET", f"/v1/connections/{SHARED_CONNECTION}", demo).json

    # Reads: each seller sees its own SKU under the same id.
    acme_stock = tenants.stock(SKU, acme)
    assert acme_stock["total"]["onHand"] == 7 and demo_before["total"]["onHand"] != 7
    assert shelf.call("GET", f"/v1/prices/{SKU}", acme).json["price"] == {"amount": 4242, "currency": "EUR"}
    assert shelf.call("GET", f"/v1/prices/{SKU}", demo).json["price"]["currency"] == "USD"
    assert shelf.call("GET", f"/v1/connections/{SHARED_CONNECTION}", acme).json["kind"] == "generic"
    assert demo_connection["kind"] != "generic"

    # Writes with the same idempotency key and external id: both accepted, each in its own seller.
    order = {"type": "order.confirmed", "sku": SKU, "qty": 2, "channel": "amazon", "externalId": "ext-shared-1"}
    first = shelf.call("POST", "/v1/events", demo, order, headers={"Idempotency-Key": SHARED_KEY})
    second = shelf.call("POST", "/v1/events", acme, order, headers={"Idempotency-Key": SHARED_KEY})
    assert first.status == 202 and first.json["status"] == "accepted", first
    assert second.status == 202 and second.json["status"] == "accepted", second
    assert tenants.stock(SKU, acme)["total"]["committed"] == 2
    assert tenants.stock(SKU, demo)["total"]["committed"] == demo_before["total"]["committed"] + 2
    # A repeat is a duplicate within its own seller only.
    again = shelf.call("POST", "/v1/events", acme, order, headers={"Idempotency-Key": SHARED_KEY})
    assert again.json["status"] == "duplicate"
    assert tenants.stock(SKU, demo)["total"]["committed"] == demo_before["total"]["committed"] + 2

    # Webhooks to the shared connection id: acme's secret reaches acme only; the demo seller's stock does not move.
    demo_committed = tenants.stock(SKU, demo)["total"]["committed"]
    hook = signed_webhook(shelf, SHARED_CONNECTION, "acme-secret",
                          {"type": "order.placed", "orderId": "hook-1", "lines": [{"sku": SKU, "quantity": 1}]})
    assert hook.status == 200 and hook.json["accepted"] == 1, hook
    assert tenants.stock(SKU, acme)["total"]["committed"] == 3
    assert tenants.stock(SKU, demo)["total"]["committed"] == demo_committed

    # Catalog, offers, feeds, UCP, MCP: only the seller's own SKUs and prices.
    acme_catalog = shelf.call("GET", "/v1/catalog?limit=100", acme).json
    assert [i["sku"] for i in acme_catalog["items"]] == [SKU], acme_catalog
    assert len(shelf.call("GET", "/v1/catalog?limit=100", demo).json["items"]) == 2
    offer = shelf.call("GET", f"/v1/offers/{SKU}?qty=1", acme).json
    assert offer["price"] == {"amount": 4242, "currency": "EUR"} and offer["stock"]["available"] == 4, offer
    feed = [json.loads(line) for line in shelf.call("GET", "/v1/feed/acp", acme).raw.decode().splitlines() if line]
    assert len(feed) == 1 and "Acme red tee" in json.dumps(feed), feed
    demo_feed = shelf.call("GET", "/v1/feed/acp", demo).raw.decode()
    assert "Acme red tee" not in demo_feed and "4242" not in demo_feed
    google = shelf.call("GET", "/v1/feed/google.tsv", acme).raw.decode()
    assert "42.42 EUR" in google and "USD" not in google, google
    ucp = shelf.call("POST", "/ucp/catalog/search", acme, {"query": "tee"}).json
    assert "Acme red tee" in json.dumps(ucp) and "USD" not in json.dumps(ucp), ucp
    assert "Acme red tee" not in json.dumps(shelf.call("POST", "/ucp/catalog/search", demo, {"query": "tee"}).json)
    acme_mcp = mcp_offer(shelf, acme, SKU)["structuredContent"]
    demo_mcp = mcp_offer(shelf, demo, SKU)["structuredContent"]
    assert acme_mcp["price"]["currency"] == "EUR" and demo_mcp["price"]["currency"] == "USD"

    # Reservations: a hold of one seller is unknown to the other, even by its id.
    hold = shelf.call("POST", "/v1/reservations", acme, {"sku": SKU, "qty": 1, "ttlSeconds": 60},
                      headers={"Idempotency-Key": SHARED_KEY})
    assert hold.status == 201, hold
    hold_id = hold.json["id"]
    assert_problem(shelf.call("GET", f"/v1/reservations/{hold_id}", demo), 404)
    assert_problem(shelf.call("DELETE", f"/v1/reservations/{hold_id}", demo), 404)
    assert_problem(shelf.call("POST", f"/v1/reservations/{hold_id}/commit", demo), 404)
    assert shelf.call("GET", f"/v1/reservations/{hold_id}", acme).status == 200
    # The same idempotency key on the demo seller is its own, new hold.
    demo_hold = shelf.call("POST", "/v1/reservations", demo, {"sku": SKU, "qty": 1, "ttlSeconds": 60},
                           headers={"Idempotency-Key": SHARED_KEY})
    assert demo_hold.status == 201 and demo_hold.json["id"] != hold_id, demo_hold

    # Rules: each seller lists only its own.
    rule = shelf.call("POST", "/v1/rules", acme, {"text": f"When available stock of {SKU} drops below 2, pause the listing on Amazon."})
    assert rule.status == 201, rule
    assert rule.json["id"] in [r["id"] for r in shelf.call("GET", "/v1/rules", acme).json["rules"]]
    assert rule.json["id"] not in [r["id"] for r in shelf.call("GET", "/v1/rules", demo).json["rules"]]
    assert_problem(shelf.call("DELETE", f"/v1/rules/{rule.json['id']}", demo), 404)

    # DLQ: acme's pushes to the dead port are dead-lettered in acme's queue only; the demo seller's replay-all does not touch them.
    acme_dlq = eventually("acme's failed push in its DLQ", lambda: shelf.call("GET", "/v1/dlq", acme).json["deadLetters"], timeout=60)
    assert all(d["connection"] == SHARED_CONNECTION and d["sku"] == SKU for d in acme_dlq), acme_dlq
    assert not any(d.get("seller") == ACME for d in shelf.call("GET", "/v1/dlq", demo).json["deadLetters"])
    assert len(shelf.call("GET", "/v1/dlq", demo).json["deadLetters"]) == 0
    assert shelf.call("POST", "/v1/dlq:replay-all", demo).status == 200
    assert len(shelf.call("GET", "/v1/dlq", acme).json["deadLetters"]) == len(acme_dlq)

    # Audit and SSE: only the seller's own events, numbered by its own sequence.
    acme_audit = shelf.call("GET", f"/v1/audit?limit=1000", acme).json["events"]
    assert acme_audit and all(e["event"].get("sku") in (None, SKU) for e in acme_audit)
    acme_stream = sse_events(shelf, acme, len(acme_audit))
    assert [e["sequence"] for e in acme_stream] == sorted(e["sequence"] for e in acme_audit)
    assert all(e.get("sku") in (None, SKU) for e in acme_stream)
    demo_audit = shelf.call("GET", "/v1/audit?limit=1000", demo).json["events"]
    assert not any("Acme" in json.dumps(e) for e in demo_audit)
    demo_stream = sse_events(shelf, demo, len(demo_audit))
    assert len(demo_stream) == len(demo_audit) and not any("Acme" in json.dumps(e) for e in demo_stream)

    # Tokens: each seller lists and revokes only its own.
    demo_tokens = {t["id"] for t in shelf.call("GET", "/v1/tokens", demo).json["tokens"]}
    acme_tokens = {t["id"] for t in shelf.call("GET", "/v1/tokens", acme).json["tokens"]}
    assert demo_tokens and acme_tokens and not demo_tokens & acme_tokens
    assert_problem(shelf.call("DELETE", f"/v1/tokens/{next(iter(acme_tokens))}", demo), 404)
    assert shelf.call("GET", "/v1/catalog", acme).status == 200

    # The platform view counts each seller's SKUs.
    sellers = {s["id"]: s for s in shelf.call("GET", "/v1/sellers", tenants.platform).json["sellers"]}
    assert sellers[ACME]["skus"] == 1 and sellers["demo"]["skus"] == 2


def test_the_second_seller_survives_a_restart_and_imports_by_cli(tenants):
    shelf = tenants.shelf
    before = tenants.stock(SKU, tenants.acme)
    shelf.stop()
    # `shelf import --seller acme` works for the created seller (server stopped, as documented).
    csv = f"{tenants.work}/acme.csv"
    with open(csv, "w") as f:
        f.write("sku,productId,title,price,currency,location,onHand\nACME-CAP,P-CAP,Acme cap,1500,EUR,newark,9\n")
    out = subprocess.run([SHELF, "import", "--database", tenants.db, "--seller", ACME, csv], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # `shelf seller create` makes a third seller from the command line (id, name, currency, time zone, holidays); a repeat
    # and bad input are refused and change nothing; `shelf import --seller` then loads its catalog under a shared SKU id.
    create = [SHELF, "seller", "create", "--database", tenants.db, "--id", "beta", "--name", "Beta Shop", "--currency", "JPY",
              "--time-zone", "Asia/Tokyo", "--holiday", "2027-01-02", "--holiday", "2027-01-01"]
    made = subprocess.run(create, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0 and made.stdout.strip() == "beta", made
    again = subprocess.run(create, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "exists" in again.stderr, again
    bad = subprocess.run([SHELF, "seller", "create", "--database", tenants.db, "--id", "gamma", "--name", "G", "--currency", "XYZ"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "currency" in bad.stderr, bad
    beta_csv = f"{tenants.work}/beta.csv"
    with open(beta_csv, "w") as f:
        f.write(f"sku,productId,title,price,currency\n{SKU},P-BETA,Beta tee,1800,JPY\n")
    out = subprocess.run([SHELF, "import", "--database", tenants.db, "--seller", "beta", beta_csv], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    beta = subprocess.check_output([SHELF, "token", "create", "--database", tenants.db, "--seller", "beta", "--scopes", "read"],
                                   timeout=60).decode().strip()
    listed = subprocess.run([SHELF, "seller", "list", "--database", tenants.db], capture_output=True, text=True, timeout=60).stdout
    assert any(line.split("\t")[:2] == ["acme", "EUR"] for line in listed.splitlines()), listed
    assert any(line.split("\t")[:4] == ["beta", "JPY", "Asia/Tokyo", "1"] for line in listed.splitlines()), listed
    assert not any(line.startswith("gamma\t") for line in listed.splitlines()), listed
    from shelfproc import Shelf
    tenants.shelf = Shelf(tenants.work, tenants.db, tenants.shelf_port)
    after = tenants.stock(SKU, tenants.acme)
    assert after["total"] == before["total"]
    cap = tenants.stock("ACME-CAP", tenants.acme)
    assert cap["total"]["onHand"] == 9
    assert_problem(tenants.shelf.call("GET", "/v1/stock/ACME-CAP", tenants.admin), 404)
    # The business calendar survives too.
    seller = tenants.shelf.call("GET", f"/v1/sellers/{ACME}", tenants.platform).json
    assert seller["holidays"] == ["2026-12-24", "2026-12-25"] and seller["skus"] == 2
    # The seller made by the CLI serves its own catalog under the shared SKU id, and only its own.
    described = tenants.shelf.call("GET", "/v1/sellers/beta", tenants.platform).json
    assert (described["currency"], described["timeZone"], described["holidays"], described["skus"]) == \
        ("JPY", "Asia/Tokyo", ["2027-01-01", "2027-01-02"], 1), described
    items = tenants.shelf.call("GET", "/v1/catalog?limit=50", beta).json["items"]
    assert [(i["sku"], i["title"], i["price"]["currency"]) for i in items] == [(SKU, "Beta tee", "JPY")], items
    assert tenants.shelf.call("GET", f"/v1/stock/{SKU}", beta).json["sku"] == SKU
    assert tenants.shelf.call("GET", "/v1/catalog?q=acme&limit=50", beta).json["items"] == []
