"""/mcp driven by the real Python MCP client (PyPI `mcp`): initialize, list tools, call each tool and check the structured
results against REST; two clients at once reusing the same JSON-RPC ids each get their own answers; transport refusals.

Run by scripts/contract-tests.sh against a live server (SHELF_URL, SHELF_READ_TOKEN, SHELF_ADMIN_TOKEN)."""
import asyncio
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import requests
from mcp import ClientSession, McpError, types
from mcp.client.streamable_http import streamablehttp_client

BASE = os.environ["SHELF_URL"].rstrip("/")
READ = os.environ["SHELF_READ_TOKEN"]
ADMIN = os.environ["SHELF_ADMIN_TOKEN"]
RUN = uuid.uuid4().hex[:8]
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def make_sku(name: str, on_hand: int) -> str:
    sku = f"MCP-{name}-{RUN}"
    body = {"productId": f"P-MCP-{name}-{RUN}", "title": f"MCP {name} tee", "price": {"amount": 2599, "currency": "USD"},
            "tags": ["mcp-test", RUN], "levels": [{"location": "reno", "onHand": on_hand}], "listings": [{"channel": "amazon"}]}
    r = requests.put(f"{BASE}/v1/skus/{sku}", json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
    assert r.status_code == 200, r.text
    return sku


def rest(path: str, **params) -> dict:
    r = requests.get(BASE + path, headers={"Authorization": f"Bearer {READ}"}, params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


async def with_session(body, token: str = READ):
    async with streamablehttp_client(f"{BASE}/mcp", headers={"Authorization": f"Bearer {token}"}) as (read, write, _):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.serverInfo.name == "shelf"
            return await body(session)


def call_result(result) -> dict:
    assert result.isError is False, result.content[0].text
    # The text block carries the same JSON as structuredContent.
    assert json.loads(result.content[0].text) == result.structuredContent
    return result.structuredContent


def test_initialize_list_tools_and_call_each_tool():
    sku = make_sku("A", 40)

    async def body(session: ClientSession):
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == {"get_offer", "check_availability", "get_delivery_options", "search_catalog", "reserve_stock",
                              "release_reservation", "watch_item"}
        for name, tool in tools.items():
            jsonschema.Draft202012Validator.check_schema(tool.inputSchema)
            jsonschema.Draft202012Validator.check_schema(tool.outputSchema)
            # Every call of watch_item creates a watch; every other tool may be retried.
            assert tool.annotations is not None and tool.annotations.idempotentHint is (name != "watch_item"), name
        for name in ("get_offer", "check_availability", "get_delivery_options", "search_catalog"):
            assert tools[name].annotations.readOnlyHint is True, name
        assert tools["reserve_stock"].annotations.readOnlyHint is False

        out = {}
        offer = call_result(await session.call_tool("get_offer", {"sku": sku, "qty": 3, "country": "US", "postalCode": "10001"}))
        jsonschema.validate(offer, tools["get_offer"].outputSchema)
        assert offer["sku"] == sku and offer["qty"] == 3 and offer["purchasable"] is True
        assert offer["price"] == {"amount": 2599, "currency": "USD"}
        assert 0 < offer["confidence"] <= 1 and 0 <= offer["freshness"]["freshnessScore"] <= 1
        assert offer["delivery"]["options"], offer
        out["offer"] = offer

        check = call_result(await session.call_tool("check_availability", {"items": [{"sku": sku, "qty": 39}, {"sku": sku, "qty": 2},
                                                                                     {"sku": f"NOPE-{RUN}"}]}))
        jsonschema.validate(check, tools["check_availability"].outputSchema)
        # Lines of one SKU are summed: 41 > 40 available.
        assert check["items"][0]["qty"] == 41 and check["items"][0]["purchasable"] is False
        assert check["notFound"] == [f"NOPE-{RUN}"] and check["allPurchasable"] is False

        delivery = call_result(await session.call_tool("get_delivery_options", {"sku": sku, "qty": 1, "country": "US",
                                                                                "postalCode": "94105"}))
        jsonschema.validate(delivery, tools["get_delivery_options"].outputSchema)
        assert delivery["purchasable"] is True and delivery["options"] and "freshness" in delivery

        found = call_result(await session.call_tool("search_catalog", {"query": f"mcp a tee {RUN}", "limit": 5}))
        jsonschema.validate(found, tools["search_catalog"].outputSchema)
        assert [i["sku"] for i in found["items"]] == [sku]
        assert found["items"][0]["confidence"] > 0 and found["catalog"]["sequence"] > 0
        tagged = call_result(await session.call_tool("search_catalog", {"tags": ["mcp-test", RUN], "maxPrice": 2599, "inStockOnly": True}))
        assert sku in [i["sku"] for i in tagged["items"]]
        cheaper = call_result(await session.call_tool("search_catalog", {"tags": [RUN], "maxPrice": 2598}))
        assert cheaper["items"] == []

        key = str(uuid.uuid4())
        hold = call_result(await session.call_tool("reserve_stock", {"sku": sku, "qty": 5, "idempotencyKey": key, "ttlSeconds": 600}))
        jsonschema.validate(hold, tools["reserve_stock"].outputSchema)
        again = call_result(await session.call_tool("reserve_stock", {"sku": sku, "qty": 5, "idempotencyKey": key, "ttlSeconds": 600}))
        assert again["id"] == hold["id"] and hold["status"] == "active"
        out["after_hold"] = rest(f"/v1/stock/{sku}")["total"]["available"]
        too_many = await session.call_tool("reserve_stock", {"sku": sku, "qty": 1000, "idempotencyKey": str(uuid.uuid4())})
        assert too_many.isError is True and json.loads(too_many.content[0].text)["status"] == 409

        released = call_result(await session.call_tool("release_reservation", {"reservationId": hold["id"]}))
        assert released["status"] == "released" and released["id"] == hold["id"]
        out["after_release"] = rest(f"/v1/stock/{sku}")["total"]["available"]
        twice = await session.call_tool("release_reservation", {"reservationId": hold["id"]})
        assert twice.isError is True and json.loads(twice.content[0].text)["status"] == 404
        return out

    out = asyncio.run(with_session(body))
    assert out["offer"]["stock"]["available"] == rest(f"/v1/offers/{sku}")["stock"]["available"] == 40
    assert out["after_hold"] == 35, "the MCP hold must lower what every reader sees"
    assert out["after_release"] == 40


def test_tool_errors_name_the_field():
    async def body(session: ClientSession):
        unknown = await session.call_tool("get_offer", {"sku": f"NOPE-{RUN}"})
        bad_qty = await session.call_tool("get_offer", {"sku": "TEE-RED-M", "qty": 0})
        extra = await session.call_tool("get_offer", {"sku": "TEE-RED-M", "color": "red"})
        return [json.loads(r.content[0].text) for r in (unknown, bad_qty, extra)] + [r.isError for r in (unknown, bad_qty, extra)]

    unknown, bad_qty, extra, *flags = asyncio.run(with_session(body))
    assert flags == [True, True, True]
    assert (unknown["status"], unknown["field"]) == (404, "sku")
    assert (bad_qty["status"], bad_qty["field"]) == (422, "qty")
    assert (extra["status"], extra["field"]) == (422, "color")


def test_two_clients_at_once_with_the_same_ids_get_their_own_answers():
    first, second = make_sku("B", 7), make_sku("C", 11)

    async def client(sku: str, expected: int):
        async def body(session: ClientSession):
            # Both sessions number their requests from the same start, so their JSON-RPC ids collide on the wire.
            answers = await asyncio.gather(*[session.call_tool("get_offer", {"sku": sku}) for _ in range(15)])
            return [(call_result(a)["sku"], call_result(a)["stock"]["available"]) for a in answers]
        got = await with_session(body)
        assert got == [(sku, expected)] * 15

    async def both():
        await asyncio.gather(client(first, 7), client(second, 11))

    asyncio.run(both())

    # The same on the raw transport: 2 × 20 concurrent posts, all with id 7.
    def post(sku: str):
        message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "get_offer", "arguments": {"sku": sku}}}
        r = requests.post(f"{BASE}/mcp", json=message, headers={**MCP_HEADERS, "Authorization": f"Bearer {READ}"}, timeout=15)
        assert r.status_code == 200, r.text
        return sku, r.json()["id"], r.json()["result"]["structuredContent"]["sku"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, [first, second] * 20))
    assert all(asked == answered and rid == 7 for asked, rid, answered in results), results


def test_transport_refusals():
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    auth = {"Authorization": f"Bearer {READ}"}
    r = requests.post(f"{BASE}/mcp", json=ping, headers=MCP_HEADERS, timeout=10)
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("application/problem+json")
    r = requests.post(f"{BASE}/mcp", json=ping, headers={**MCP_HEADERS, **auth}, timeout=10)
    assert r.status_code == 200 and r.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    r = requests.post(f"{BASE}/mcp", json=ping, headers={**MCP_HEADERS, **auth, "Host": "evil.example:80"}, timeout=10)
    assert r.status_code == 421, r.text
    r = requests.post(f"{BASE}/mcp", json=ping, headers={**MCP_HEADERS, **auth, "Origin": "http://evil.example"}, timeout=10)
    assert r.status_code == 403, r.text
    r = requests.post(f"{BASE}/mcp", json=ping, headers={**auth, "Accept": "text/html"}, timeout=10)
    assert r.status_code == 406, r.text
    for bad in ({"jsonrpc": "2.0", "id": True, "method": "ping"}, {"jsonrpc": "1.0", "id": 1, "method": "ping"}, [ping], "ping"):
        r = requests.post(f"{BASE}/mcp", json=bad, headers={**MCP_HEADERS, **auth}, timeout=10)
        assert r.status_code == 400 and r.json()["error"]["code"] == -32600, (bad, r.status_code, r.text)
    r = requests.get(f"{BASE}/mcp", headers={**auth, "Accept": "text/event-stream"}, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_offer_resources_subscribe_and_update_notifications():
    """A session subscribes to shelf://offers/{sku} and is told on its stream when that offer changes (and only that one)."""
    watched, other = make_sku("SUB", 5), make_sku("UNSUB", 5)
    updates: list[str] = []
    seen = asyncio.Event()

    async def on_message(message):
        root = getattr(message, "root", None)
        if isinstance(root, types.ResourceUpdatedNotification):
            updates.append(str(root.params.uri))
            seen.set()

    def post_stock(sku: str, qty: int):
        r = requests.post(f"{BASE}/v1/events", json={"type": "stock.set", "sku": sku, "qty": qty, "location": "reno"},
                          headers={"Authorization": f"Bearer {ADMIN}", "Idempotency-Key": uuid.uuid4().hex}, timeout=10)
        assert r.status_code in (200, 201, 202), r.text

    async def wait_for(uri: str):
        while uri not in updates:
            seen.clear()
            await asyncio.wait_for(seen.wait(), timeout=10)

    async def run():
        async with streamablehttp_client(f"{BASE}/mcp", headers={"Authorization": f"Bearer {READ}"}) as (read, write, session_id):
            async with ClientSession(read, write, message_handler=on_message) as session:
                init = await session.initialize()
                assert init.capabilities.resources is not None and init.capabilities.resources.subscribe is True
                assert session_id(), "a client that takes event streams gets a session"
                templates = (await session.list_resource_templates()).resourceTemplates
                assert [t.uriTemplate for t in templates] == ["shelf://offers/{sku}"]
                listed = await session.list_resources()
                assert listed.resources and all(str(r.uri).startswith("shelf://offers/") for r in listed.resources)
                uri, other_uri = f"shelf://offers/{watched}", f"shelf://offers/{other}"
                content = (await session.read_resource(uri)).contents[0]
                offer = json.loads(content.text)
                assert content.mimeType == "application/json"
                assert offer["sku"] == watched and offer["stock"]["available"] == 5 and "freshness" in offer and "confidence" in offer
                assert offer["stock"] == rest(f"/v1/offers/{watched}")["stock"]

                await session.subscribe_resource(uri)
                await session.subscribe_resource(other_uri)
                post_stock(watched, 9)
                await wait_for(uri)
                after = json.loads((await session.read_resource(uri)).contents[0].text)
                assert after["stock"]["available"] == 9

                # Unsubscribed: a change of `other` is not announced; the later change of `watched` is (the feed is in order).
                await session.unsubscribe_resource(other_uri)
                updates.clear()
                post_stock(other, 1)
                post_stock(watched, 3)
                await wait_for(uri)
                assert other_uri not in updates, updates

                # Unknown resources are JSON-RPC errors.
                try:
                    await session.subscribe_resource(f"shelf://offers/NOPE-{RUN}")
                    raise AssertionError("subscribing to an unknown SKU succeeded")
                except McpError as error:
                    assert "unknown SKU" in str(error)

    asyncio.run(run())


def test_watch_item_tool_creates_a_webhook_watch():
    sku = make_sku("WATCH", 0)

    async def body(session: ClientSession):
        result = await session.call_tool("watch_item", {
            "skus": [sku], "conditions": [{"type": "back_in_stock", "qty": 2}],
            "target": {"url": "http://127.0.0.1:9/mcp-watch", "secret": "mcp-watch-secret-123"}})
        watch = call_result(result)
        assert watch["skus"] == [sku] and watch["status"] == "active" and watch["target"]["secret"] == "mcp-watch-secret-123"
        bad = await session.call_tool("watch_item", {"skus": [sku], "conditions": [], "target": {"url": "http://example.com/x"}})
        assert bad.isError is True and json.loads(bad.content[0].text)["field"] == "conditions"
        return watch["id"]

    watch_id = asyncio.run(with_session(body))
    shown = rest(f"/v1/watches/{watch_id}")
    assert shown["skus"] == [sku] and "secret" not in shown["target"]
    r = requests.delete(f"{BASE}/v1/watches/{watch_id}", headers={"Authorization": f"Bearer {READ}"}, timeout=10)
    assert r.status_code == 204
