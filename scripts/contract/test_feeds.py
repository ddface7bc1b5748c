"""ACP feed: every demo product validates against the public ACP schema (#/$defs/Product), Shelf's facts sit beside it,
and `since` returns only what changed."""
import json
import os
import uuid
from pathlib import Path

import jsonschema
import requests

REPO = Path(__file__).resolve().parents[2]
BASE = os.environ["SHELF_URL"].rstrip("/")
READ = os.environ["SHELF_READ_TOKEN"]
INGEST = os.environ["SHELF_INGEST_TOKEN"]


def acp_schema_path() -> Path:
    for base in [REPO.parent / "shared", REPO / "shared", REPO.parent.parent / "shared"]:
        p = base / "specs" / "acp-2026-04-17" / "schema.feed.json"
        if p.exists():
            return p
    raise AssertionError("shared/specs/acp-2026-04-17/schema.feed.json not found beside the repository")


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
    posted = requests.post(f"{BASE}/v1/events", headers={"Authorization": f"Bearer {INGEST}", "Idempotency-Key": str(uuid.uuid4())},
                           json={"type": "stock.received", "sku": "MUG-RED-11OZ", "qty": 1}, timeout=10)
    assert posted.status_code == 202, posted.text
    r2, changed = feed(since=cursor)
    ids = [line["product"]["id"] for line in changed]
    assert "P-MUG-RED" in ids
    assert len(changed) < len(demo_products())
    for line in changed:
        assert any(v["sequence"] > int(cursor) for v in line["shelf"]["variants"]), line["product"]["id"]
    assert int(r2.headers["X-Shelf-Cursor"]) > int(cursor)
