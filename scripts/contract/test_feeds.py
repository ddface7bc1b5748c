"""ACP feed: every demo product validates against the public ACP schema (#/$defs/Product), Shelf's facts sit beside it,
and `since` returns only what changed."""
import json
import os
import re
import uuid
from pathlib import Path

import jsonschema
import requests

REPO = Path(__file__).resolve().parents[2]
BASE = os.environ["SHELF_URL"].rstrip("/")
READ = os.environ["SHELF_READ_TOKEN"]
INGEST = os.environ["SHELF_INGEST_TOKEN"]


def acp_schema_path() -> Path:
    """The vendored ACP feed schema (fixtures/specs, the repository's only copy)."""
    p = shared_specs() / "acp-2026-04-17" / "schema.feed.json"
    assert p.exists(), f"{p} is missing: the vendored schemas belong to the repository"
    return p


def feed(**params):
    r = requests.get(f"{BASE}/v1/feed/acp", headers={"Authorization": f"Bearer {READ}"}, params=params, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return r, [json.loads(line) for line in r.text.splitlines() if line]


def demo_products() -> set[str]:
    ids = set()
    for line in (REPO / "fixtures" / "demo" / "catalog.jsonl").read_text().splitlines():
        if line:
            ids.add(json.loads(line)["item"]["productId"])
    return ids


def test_every_demo_product_is_valid_acp_with_shelf_facts_beside_it():
    schema = json.loads(acp_schema_path().read_text())
    product_schema = {"$schema": schema.get("$schema", "https://json-schema.org/draft/2020-12/schema"), "$defs": schema["$defs"],
                      "$ref": "#/$defs/Product"}
    validator = jsonschema.Draft202012Validator(product_schema, format_checker=jsonschema.FormatChecker())
    _, lines = feed()
    demo = demo_products()
    checked = 0
    for line in lines:
        assert set(line) == {"product", "shelf"}
        product = line["product"]
        if product["id"] not in demo:
            continue
        errors = sorted(validator.iter_errors(product), key=lambda e: e.path)
        assert not errors, f"{product['id']}: {errors[0].message} at {list(errors[0].path)}"
        assert 0 <= line["shelf"]["freshness"]["freshnessScore"] <= 1
        assert {v["sku"] for v in line["shelf"]["variants"]} == {v["id"] for v in product["variants"]}
        checked += 1
    # The fuzzer that ran before may have deleted or re-keyed some demo SKUs; most products must still be there, all valid.
    assert checked >= len(demo) // 2, f"only {checked} of {len(demo)} demo products in the feed"


def test_since_returns_only_what_changed_and_304_when_unchanged():
    r, _ = feed()
    cursor = r.headers["X-Shelf-Cursor"]
    again = requests.get(f"{BASE}/v1/feed/acp", headers={"Authorization": f"Bearer {READ}", "If-None-Match": r.headers["ETag"]}, timeout=30)
    assert again.status_code in (200, 304)  # 304 unless something else changed meanwhile
    pa, _, skus = interleaved_products()
    r, _ = feed()
    cursor = r.headers["X-Shelf-Cursor"]
    posted = requests.post(f"{BASE}/v1/events", headers={"Authorization": f"Bearer {INGEST}", "Idempotency-Key": str(uuid.uuid4())},
                           json={"type": "stock.received", "sku": skus[0], "qty": 1, "location": "reno"}, timeout=10)
    assert posted.status_code == 202, posted.text
    r2, changed = feed(since=cursor)
    ids = [line["product"]["id"] for line in changed]
    assert pa in ids
    assert len(changed) < len(demo_products())
    for line in changed:
        assert any(v["sequence"] > int(cursor) for v in line["shelf"]["variants"]), line["product"]["id"]
    assert int(r2.headers["X-Shelf-Cursor"]) > int(cursor)


# --- UCP, schema.org JSON-LD, Google Merchant ---------------------------------------------------------------------------

def shared_specs() -> Path:
    return REPO / "fixtures" / "specs"


def ucp_validator(schema_file: str, pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for `schema_file#pointer` that resolves every https://ucp.dev/schemas/... $ref from the local copy."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    root = shared_specs() / "ucp" / "source" / "schemas"
    resources = []
    for path in root.rglob("*.json"):
        doc = json.loads(path.read_text())
        uri = doc.get("$id") or "https://ucp.dev/schemas/" + path.relative_to(root).as_posix()
        resources.append((uri, Resource.from_contents(doc, default_specification=DRAFT202012)))
    registry = Registry().with_resources(resources)
    target = {"$ref": f"https://ucp.dev/schemas/{schema_file}{pointer}"}
    return jsonschema.Draft202012Validator(target, registry=registry, format_checker=jsonschema.FormatChecker())


def assert_valid(validator: jsonschema.Draft202012Validator, doc, what: str) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{what}: {errors[0].message} at {list(errors[0].path)}"


RUN = uuid.uuid4().hex[:8]
ADMIN = os.environ.get("SHELF_ADMIN_TOKEN", "")


def put_sku(sku: str, product: str, size: str, on_hand: int = 30, price: int = 1500) -> None:
    body = {"productId": product, "title": f"Feed tee {size}", "productTitle": "Feed tee", "price": {"amount": price, "currency": "USD"},
            "options": {"size": size}, "tags": ["feed-test", RUN], "levels": [{"location": "reno", "onHand": on_hand}],
            "listings": [{"channel": "amazon"}]}
    r = requests.put(f"{BASE}/v1/skus/{sku}", json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
    assert r.status_code == 200, r.text


def interleaved_products() -> tuple[str, str, list[str]]:
    """Two products whose variants interleave in SKU order: A-1 (PA), A-2 (PB), A-3 (PA)."""
    pa, pb = f"P-FEED-A-{RUN}", f"P-FEED-B-{RUN}"
    skus = [f"FEED-{RUN}-1", f"FEED-{RUN}-2", f"FEED-{RUN}-3"]
    put_sku(skus[0], pa, "S")
    put_sku(skus[1], pb, "M", price=1700)
    put_sku(skus[2], pa, "L", on_hand=0)
    return pa, pb, skus


def post(path: str, body: dict) -> requests.Response:
    return requests.post(BASE + path, json=body, headers={"Authorization": f"Bearer {READ}"}, timeout=30)


def test_ucp_profile_is_a_valid_business_profile():
    r = requests.get(f"{BASE}/.well-known/ucp", timeout=10)
    assert r.status_code == 200
    assert_valid(ucp_validator("profile.json", "#/$defs/business_schema"), r.json(), "profile")
    services = r.json()["ucp"]["services"]["dev.ucp.shopping"]
    assert {s["transport"] for s in services} == {"rest", "mcp"}
    assert all(s["endpoint"].startswith(BASE) for s in services)


def test_ucp_search_pages_through_every_product_once_validly():
    interleaved_products()
    validator = ucp_validator("shopping/catalog_search.json", "#/$defs/search_response")
    seen, cursor, pages = [], None, 0
    while True:
        body = {"pagination": {"limit": 25, **({"cursor": cursor} if cursor else {})}}
        r = post("/ucp/catalog/search", body)
        assert r.status_code == 200, r.text
        page = r.json()
        assert_valid(validator, page, f"search page {pages}")
        assert {v["id"] for p in page["products"] for v in p["variants"]} == {f["id"] for f in page["shelf"]["variants"]}
        seen += [p["id"] for p in page["products"]]
        pages += 1
        if not page["pagination"]["has_next_page"]:
            break
        cursor = page["pagination"]["cursor"]
        assert pages < 100
    demo = demo_products()
    assert len(set(seen)) == len(seen), "a product appeared on two pages"
    assert len(demo & set(seen)) >= len(demo) // 2


def test_variants_that_do_not_sort_together_form_one_product_everywhere():
    pa, pb, skus = interleaved_products()
    found = post("/ucp/catalog/search", {"query": RUN}).json()["products"]
    assert sorted((p["id"], sorted(v["id"] for v in p["variants"])) for p in found) == [(pa, [skus[0], skus[2]]), (pb, [skus[1]])]
    lines = [line for line in feed()[1] if line["product"]["id"] in (pa, pb)]
    assert sorted((line["product"]["id"], sorted(v["id"] for v in line["product"]["variants"])) for line in lines) == [
        (pa, [skus[0], skus[2]]), (pb, [skus[1]])]
    # Moving a variant to the other product moves it in every answer.
    put_sku(skus[2], pb, "L")
    lookup = post("/ucp/catalog/lookup", {"ids": [pa, pb]}).json()["products"]
    assert sorted((p["id"], sorted(v["id"] for v in p["variants"])) for p in lookup) == [(pa, [skus[0]]), (pb, [skus[1], skus[2]])]


def test_ucp_search_filters_and_query():
    r = post("/ucp/catalog/search", {"query": "mug", "filters": {"price": {"max": 100000}}})
    assert r.status_code == 200, r.text
    products = r.json()["products"]
    assert products and all("mug" in p["title"].lower() or any("mug" in v["title"].lower() for v in p["variants"]) for p in products)
    none = post("/ucp/catalog/search", {"query": "mug", "filters": {"price": {"max": 0}}})
    assert none.status_code == 200 and none.json()["products"] == []
    bad = post("/ucp/catalog/search", {"filters": {"price": {"min": -1}}})
    assert bad.status_code == 422 and bad.json()["field"] == "filters.price.min"


def test_ucp_lookup_and_product_detail_are_valid():
    pa, pb, skus = interleaved_products()
    lookup = post("/ucp/catalog/lookup", {"ids": [skus[2], pb, f"NOPE-{RUN}"]})
    assert lookup.status_code == 200, lookup.text
    doc = lookup.json()
    assert_valid(ucp_validator("shopping/catalog_lookup.json", "#/$defs/lookup_response"), doc, "lookup")
    by_id = {p["id"]: p for p in doc["products"]}
    assert set(by_id) == {pa, pb}
    first = by_id[pa]["variants"][0]
    assert first["id"] == skus[2] and {"id": skus[2], "match": "exact"} in first["inputs"]
    assert first["availability"] == {"available": False, "status": "out_of_stock"}
    assert all(i["match"] == "featured" for v in by_id[pb]["variants"] for i in v["inputs"])
    detail = requests.get(f"{BASE}/ucp/catalog/product/{skus[2]}", headers={"Authorization": f"Bearer {READ}"}, timeout=10)
    assert detail.status_code == 200, detail.text
    assert_valid(ucp_validator("shopping/catalog_lookup.json", "#/$defs/get_product_response"), detail.json(), "product")
    product = detail.json()["product"]
    assert product["variants"][0]["id"] == skus[2] and product["selected"] == [{"name": "size", "label": "L"}]
    sizes = {v["label"]: v for v in product["options"][0]["values"]}
    assert sizes["S"]["available"] is True and sizes["L"]["available"] is False and sizes["L"]["exists"] is True
    by_product = requests.get(f"{BASE}/ucp/catalog/product/{pa}", headers={"Authorization": f"Bearer {READ}"}, timeout=10).json()
    assert by_product["product"]["variants"][0]["id"] == skus[0], "without a variant named, the first purchasable one is featured"
    missing = requests.get(f"{BASE}/ucp/catalog/product/NOPE-{RUN}", headers={"Authorization": f"Bearer {READ}"}, timeout=10)
    assert missing.status_code == 404


def test_schema_org_json_ld_offer():
    _, _, skus = interleaved_products()
    sku = skus[0]
    r = requests.get(f"{BASE}/v1/products/{sku}", params={"country": "US", "postalCode": "10001"},
                     headers={"Authorization": f"Bearer {READ}", "Accept": "application/ld+json"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    doc = r.json()
    stock = requests.get(f"{BASE}/v1/stock/{sku}", headers={"Authorization": f"Bearer {READ}"}, timeout=10).json()
    offer = doc["offers"]
    assert doc["@type"] == "Product" and doc["sku"] == sku and offer["@type"] == "Offer"
    assert offer["price"] == "15.00" and doc["inProductGroupWithID"].startswith("P-FEED-A-")
    assert offer["availability"].startswith("https://schema.org/")
    assert offer["inventoryLevel"]["value"] == stock["total"]["available"]
    assert offer["priceCurrency"] == "USD" and offer["price"].replace(".", "").isdigit()
    assert len(offer["priceValidUntil"]) == 10
    assert offer["shippingDetails"], offer
    for details in offer["shippingDetails"]:
        assert details["@type"] == "OfferShippingDetails"
        time = details["deliveryTime"]
        assert time["@type"] == "ShippingDeliveryTime"
        assert time["handlingTime"]["unitCode"] == "DAY" and time["transitTime"]["minValue"] <= time["transitTime"]["maxValue"]
        assert len(time["cutoffTime"]) == 14 and time["cutoffTime"][8] in "+-"
    assert 0 <= doc["shelf:confidence"] <= 1
    refused = requests.get(f"{BASE}/v1/products/{sku}", headers={"Authorization": f"Bearer {READ}", "Accept": "text/html"}, timeout=10)
    assert refused.status_code == 406


def google_rows(**params):
    r = requests.get(f"{BASE}/v1/feed/google.tsv", headers={"Authorization": f"Bearer {READ}"}, params=params, timeout=30)
    assert r.status_code == 200, r.text[:300]
    lines = r.text.split("\n")
    assert lines[-1] == ""
    header = lines[0].split("\t")
    return r, [dict(zip(header, line.split("\t"))) for line in lines[1:-1]], header


def test_google_merchant_feed_rows():
    _, _, skus = interleaved_products()
    r, rows, header = google_rows()
    mine = {row["id"]: row for row in rows if row["id"] in skus}
    assert set(mine) == set(skus)
    assert mine[skus[0]]["availability"] == "in_stock" and mine[skus[2]]["availability"] == "out_of_stock"
    assert mine[skus[0]]["price"] == "15.00 USD" and mine[skus[1]]["price"] == "17.00 USD"
    # Stocked at reno (ground, priority, 2-day with rates): three services, handling 1 day.
    assert len(mine[skus[0]][header[17]].split(",")) == 3 and mine[skus[0]]["min_handling_time"] == "1"
    assert mine[skus[2]][header[17]] == "", "no location holds the out-of-stock SKU"
    assert header[:3] == ["id", "item_group_id", "title"]
    assert all(len(row) == len(header) for row in rows)
    assert rows and all(row["availability"] in ("in_stock", "out_of_stock", "backorder") for row in rows)
    money = re.compile(r"^[0-9]+\.[0-9]{2} [A-Z]{3}$")
    shipping = re.compile(r"^US::[a-z0-9 ]+:[0-9]+\.[0-9]{2} USD:[0-9]+:[0-9]+:[0-9]+:[0-9]+$")
    for row in rows:
        assert money.match(row["price"]), row
        if row["sale_price"]:
            assert money.match(row["sale_price"]) and "/" in row["sale_price_effective_date"]
        if row[header[17]]:
            entries = row[header[17]].split(",")
            assert all(shipping.match(e) for e in entries), row[header[17]]
            for e in entries:
                lo_h, hi_h, lo_t, hi_t = map(int, e.split(":")[-4:])
                assert lo_h <= hi_h and lo_t <= hi_t
    cursor = r.headers["X-Shelf-Cursor"]
    posted = requests.post(f"{BASE}/v1/events", headers={"Authorization": f"Bearer {INGEST}", "Idempotency-Key": str(uuid.uuid4())},
                           json={"type": "stock.received", "sku": skus[1], "qty": 1, "location": "reno"}, timeout=10)
    assert posted.status_code == 202, posted.text
    _, changed, _ = google_rows(since=cursor)
    assert skus[1] in [row["id"] for row in changed] and len(changed) < len(rows)
