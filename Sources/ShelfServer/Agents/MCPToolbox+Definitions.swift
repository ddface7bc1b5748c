import MCP

/// JSON Schemas of the MCP tools' inputs and outputs (draft 2020-12 subset every MCP client understands).
extension MCPToolbox {
    static let tools: [Tool] = [
        Tool(
            name: "get_offer", title: "Get offer",
            description: "Can the buyer get `qty` units of a SKU, at what price, delivered when, and how sure is Shelf? "
                + "Answers from Shelf's live snapshot with stock, price, delivery options, freshness and confidence.",
            inputSchema: object([
                "sku": ["type": "string", "description": "The seller's SKU, e.g. TEE-RED-M."],
                "qty": qty, "country": country, "postalCode": postalCode,
                "channel": ["type": "string", "description": "Price and quantity as published on this channel (e.g. amazon)."],
            ], required: ["sku"]),
            annotations: readOnly("Get offer"),
            outputSchema: offerSchema
        ),
        Tool(
            name: "check_availability", title: "Check availability",
            description: "Checks many SKUs with quantities at once (a cart); lines of the same SKU are summed. "
                + "Unknown SKUs are listed in notFound.",
            inputSchema: object([
                "items": [
                    "type": "array", "minItems": 1, "maxItems": 500,
                    "items": object(["sku": ["type": "string"], "qty": qty], required: ["sku"]),
                ],
                "country": country, "postalCode": postalCode, "channel": ["type": "string"],
            ], required: ["items"]),
            annotations: readOnly("Check availability"),
            outputSchema: object([
                "items": [
                    "type": "array",
                    "items": object([
                        "sku": ["type": "string"], "qty": ["type": "integer"], "purchasable": ["type": "boolean"],
                        "available": ["type": "integer"], "price": money, "confidence": confidence,
                        "reasons": ["type": "array", "items": ["type": "string"]], "freshness": freshness,
                    ], required: ["sku", "qty", "purchasable", "available", "price", "confidence", "reasons", "freshness"], open: true),
                ],
                "notFound": ["type": "array", "items": ["type": "string"]],
                "allPurchasable": ["type": "boolean"],
            ], required: ["items", "notFound", "allPurchasable"], open: true)
        ),
        Tool(
            name: "get_delivery_options", title: "Get delivery options",
            description: "Carrier services that can deliver `qty` units of a SKU to a destination, with earliest and latest dates "
                + "and the order-by cut-off, routed from locations that hold the stock.",
            inputSchema: object(["sku": ["type": "string"], "qty": qty, "country": country, "postalCode": postalCode], required: ["sku"]),
            annotations: readOnly("Get delivery options"),
            outputSchema: object([
                "sku": ["type": "string"], "qty": ["type": "integer"], "country": ["type": "string"], "postalCode": ["type": "string"],
                "purchasable": ["type": "boolean"], "confidence": confidence, "freshness": freshness,
                "options": ["type": "array", "items": deliveryOption],
            ], required: ["sku", "qty", "country", "purchasable", "confidence", "freshness", "options"], open: true)
        ),
        Tool(
            name: "search_catalog", title: "Search catalog",
            description: "Finds active SKUs by words (SKU, title, tags, collections, option values) and filters; paged by cursor. "
                + "Prices are integer minor units.",
            inputSchema: object([
                "query": ["type": "string", "maxLength": 200],
                "tags": ["type": "array", "items": ["type": "string"], "maxItems": 20, "description": "Every tag must match."],
                "collection": ["type": "string"],
                "inStockOnly": ["type": "boolean", "default": false],
                "minPrice": ["type": "integer", "minimum": 0, "description": "Minor units."],
                "maxPrice": ["type": "integer", "minimum": 0, "description": "Minor units."],
                "limit": ["type": "integer", "minimum": 1, "maximum": 100, "default": 20],
                "cursor": ["type": "string", "description": "nextCursor of the previous page."],
            ], required: []),
            annotations: readOnly("Search catalog"),
            outputSchema: object([
                "items": [
                    "type": "array",
                    "items": object([
                        "sku": ["type": "string"], "productId": ["type": "string"], "title": ["type": "string"],
                        "price": money, "available": ["type": "integer"], "confidence": confidence,
                        "tags": ["type": "array", "items": ["type": "string"]],
                    ], required: ["sku", "productId", "title", "price", "available", "confidence"], open: true),
                ],
                "nextCursor": ["type": "string"],
                "catalog": object(["asOf": ["type": "string"], "sequence": ["type": "integer"]], required: ["sequence"]),
            ], required: ["items", "catalog"], open: true)
        ),
        Tool(
            name: "reserve_stock", title: "Reserve stock",
            description: "Holds `qty` units for `ttlSeconds` (30–86400, default 900) so no other channel or agent can take them. "
                + "Refused with an insufficient-stock error when fewer are available. Retrying with the same idempotencyKey "
                + "returns the same hold instead of a second one.",
            inputSchema: object([
                "sku": ["type": "string"], "qty": qty,
                "ttlSeconds": ["type": "integer", "minimum": 30, "maximum": 86400, "default": 900],
                "location": ["type": "string", "description": "Hold at this location only."],
                "idempotencyKey": ["type": "string", "minLength": 1, "maxLength": 190],
            ], required: ["sku", "qty", "idempotencyKey"]),
            annotations: .init(title: "Reserve stock", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false),
            outputSchema: reservation
        ),
        Tool(
            name: "release_reservation", title: "Release reservation",
            description: "Ends an active hold and returns its units to sale.",
            inputSchema: object(["reservationId": ["type": "string"]], required: ["reservationId"]),
            annotations: .init(title: "Release reservation", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
            outputSchema: reservation
        ),
    ]

    static func object(_ properties: [String: Value], required: [String], open: Bool = false) -> Value {
        ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }), "additionalProperties": .bool(open)]
    }

    static func readOnly(_ title: String) -> Tool.Annotations {
        .init(title: title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)
    }

    static let qty: Value = ["type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1]
    static let country: Value = ["type": "string", "pattern": "^[A-Za-z]{2}$", "default": "US", "description": "ISO 3166-1 alpha-2."]
    static let postalCode: Value = ["type": "string", "maxLength": 12]
    static let confidence: Value = ["type": "number", "minimum": 0, "maximum": 1]
    static let money: Value = object(
        ["amount": ["type": "integer", "description": "Minor units."], "currency": ["type": "string", "pattern": "^[A-Z]{3}$"]],
        required: ["amount", "currency"]
    )
    static let freshness: Value = object([
        "asOf": ["type": "string", "format": "date-time"], "ageMs": ["type": "integer", "minimum": 0],
        "freshnessScore": ["type": "number", "minimum": 0, "maximum": 1],
        "channels": ["type": "array", "items": ["type": "object"]],
    ], required: ["asOf", "ageMs", "freshnessScore", "channels"], open: true)
    static let deliveryOption: Value = object([
        "carrier": ["type": "string"], "service": ["type": "string"], "location": ["type": "string"],
        "earliestDate": ["type": "string", "format": "date"], "latestDate": ["type": "string", "format": "date"],
        "orderBy": ["type": "string", "format": "date-time"], "handlingDays": ["type": "integer"], "transitDays": ["type": "object"],
    ], required: ["carrier", "service", "location", "earliestDate", "latestDate", "orderBy"], open: true)
    static let offerSchema: Value = object([
        "sku": ["type": "string"], "title": ["type": "string"], "qty": ["type": "integer"], "purchasable": ["type": "boolean"],
        "stock": object(["available": ["type": "integer"]], required: ["available"], open: true),
        "price": money, "channel": ["type": "string"],
        "delivery": object(["options": ["type": "array", "items": deliveryOption]], required: ["options"]),
        "freshness": freshness, "confidence": confidence, "reasons": ["type": "array", "items": ["type": "string"]],
    ], required: ["sku", "title", "qty", "purchasable", "stock", "price", "delivery", "freshness", "confidence", "reasons"])
    static let reservation: Value = object([
        "id": ["type": "string"], "sku": ["type": "string"], "qty": ["type": "integer"], "location": ["type": "string"],
        "expiresAt": ["type": "string", "format": "date-time"],
        "status": ["type": "string", "enum": ["active", "ended", "released", "committed", "expired"]],
        "sequence": ["type": "integer"], "available": ["type": "integer"],
    ], required: ["id", "sku", "qty", "location", "expiresAt", "status"])
}
