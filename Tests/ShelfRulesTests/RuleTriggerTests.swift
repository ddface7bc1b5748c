import ShelfRules
import Testing

/// Trigger phrases (§3.4, §4.1, §4.2): synonyms, number words, money, percentages, durations and windows.
@Suite("Triggers")
struct RuleTriggerTests {
    static let lowStockRule =
        #"""
        {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-7"]}},"conditions":[{"metric":"stock",
        "op":"lt","value":12,"edge":true}],"actions":[{"type":"notify","via":"default","to":"ops"}]}
        """#

    @Test(
        "stock synonyms give one canonical rule",
        arguments: [
            "When inventory of SKU-7 dips under 12, notify ops.",
            "Whenever SKU-7's stock falls below twelve units, tell ops.",
            "As soon as on-hand stock for SKU-7 goes below a dozen, alert ops!",
            "If SKU-7 has fewer than 12 units left, ping the ops team.",
            "Once fewer than 12 units of SKU-7 remain, notify operations.",
            "WHEN sku-7 DROPS BELOW 12, NOTIFY OPS",
        ]
    )
    func stockSynonyms(_ text: String) throws {
        #expect(try RuleExpectations.accepts(text, Self.lowStockRule) != nil)
    }

    @Test(
        "number words and digit forms",
        arguments: [
            ("a hundred and fifty", 150), ("two thousand", 2000), ("twenty-five", 25), ("1,000", 1000), ("2k", 2000),
            ("nineteen", 19), ("a dozen", 12), ("three hundred", 300),
        ]
    )
    func numberWords(_ phrase: String, _ value: Int) throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-7 drops below \(phrase) units, notify ops.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-7"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":\#(value),"edge":true}],"actions":[{"type":"notify","via":"default","to":"ops"}]}
            """#
        ) != nil)
    }

    @Test(
        "comparison operators",
        arguments: [
            ("is at most 4", "lte"), ("is no more than 4", "lte"), ("is 4 or fewer", "lte"), ("drops to 4", "lte"),
            ("falls to 4 or less", "lte"), ("is down to 4 units", "lte"), ("is above 4", "gt"), ("exceeds 4", "gt"),
            ("is greater than 4", "gt"), ("is at least 4", "gte"), ("is 4 or more", "gte"), ("rises to 4", "gte"),
            ("climbs to 4 or more", "gte"), ("is exactly 4", "eq"), ("is under 4", "lt"), ("is lower than 4", "lt"),
        ]
    )
    func comparisonOperators(_ phrase: String, _ op: String) throws {
        #expect(try RuleExpectations.accepts(
            "When stock of SKU-2 \(phrase), notify ops.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-2"]}},"conditions":[{"metric":"stock",
            "op":"\#(op)","value":4,"edge":true}],"actions":[{"type":"notify","via":"default","to":"ops"}]}
            """#
        ) != nil)
    }

    @Test func betweenAtLocation() throws {
        #expect(try RuleExpectations.accepts(
            "When stock of SKU-2 at the SoHo store is between three and 8 units, email dana@shop.example.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-2"],"locations":["soho"]}},
            "conditions":[{"metric":"stock","op":"between","min":3,"max":8,"edge":true}],
            "actions":[{"type":"notify","via":"email","to":"dana@shop.example"}]}
            """#
        ) != nil)
    }

    @Test func moneyThresholdOnChannelPrice() throws {
        #expect(try RuleExpectations.accepts(
            "When the Amazon price of SKU-5 falls under $1,250.50, notify Dana.",
            #"""
            {"trigger":{"event":"price.changed","scope":{"skus":["SKU-5"],"channels":["amazon"]}},
            "conditions":[{"metric":"price","op":"lt","value":{"amount":125050,"currency":"USD"},"edge":true}],
            "actions":[{"type":"notify","via":"default","to":"dana"}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "If SKU-5 rises above 19 dollars, pause it on Etsy.",
            #"""
            {"trigger":{"event":"price.changed","scope":{"skus":["SKU-5"]}},"conditions":[{"metric":"price",
            "op":"gt","value":{"amount":1900,"currency":"USD"},"edge":true}],"actions":[{"type":"pause_listing",
            "channels":["etsy"]}]}
            """#
        ) != nil)
    }

    @Test func priceChangePercentages() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-5's price is raised by at least 10 percent, notify dana.",
            #"""
            {"trigger":{"event":"price.changed","scope":{"skus":["SKU-5"]}},
            "conditions":[{"metric":"price_change_pct","op":"gte","value":10}],"actions":[{"type":"notify",
            "via":"default","to":"dana"}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "When the price of SKU-5 drops by more than 25%, notify dana.",
            #"""
            {"trigger":{"event":"price.changed","scope":{"skus":["SKU-5"]}},
            "conditions":[{"metric":"price_change_pct","op":"lt","value":-25}],"actions":[{"type":"notify",
            "via":"default","to":"dana"}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "When the price of SKU-5 changes by more than 20 pct, notify dana.",
            #"""
            {"trigger":{"event":"price.changed","scope":{"skus":["SKU-5"]}},
            "conditions":[{"metric":"abs_price_change_pct","op":"gt","value":20}],"actions":[{"type":"notify",
            "via":"default","to":"dana"}]}
            """#
        ) != nil)
    }

    @Test(
        "durations are ISO-8601 with D/H/M filled greedily",
        arguments: [
            ("an hour and a half", "PT1H30M"), ("90 minutes", "PT1H30M"), ("24 hours", "P1D"), ("half an hour", "PT30M"),
            ("2 hours and 15 minutes", "PT2H15M"), ("a week", "P7D"), ("45 mins", "PT45M"), ("36 hrs", "P1DT12H"),
        ]
    )
    func durations(_ phrase: String, _ iso: String) throws {
        #expect(try RuleExpectations.accepts(
            "When Etsy sync lag goes over \(phrase), reconcile Etsy.",
            #"""
            {"trigger":{"event":"sync.lagging","scope":{"channels":["etsy"]}},
            "conditions":[{"metric":"sync_lag","op":"gt","value":"\#(iso)","edge":true}],
            "actions":[{"type":"reconcile_channels","channels":["etsy"]}]}
            """#
        ) != nil)
    }

    @Test(
        "windows",
        arguments: [
            ("over the past 2 hours", "PT2H"), ("within a day", "P1D"), ("in the last week", "P7D"),
            ("during the last 30 minutes", "PT30M"),
        ]
    )
    func windows(_ phrase: String, _ iso: String) throws {
        #expect(try RuleExpectations.accepts(
            "When more than 30 orders for SKU-8 come in \(phrase), notify ops.",
            #"""
            {"trigger":{"event":"order.confirmed","scope":{"skus":["SKU-8"]}},
            "conditions":[{"metric":"order_count","op":"gt","value":30,"edge":true,"window":"\#(iso)"}],
            "actions":[{"type":"notify","via":"default","to":"ops"}]}
            """#
        ) != nil)
    }

    @Test func orderQuantityFromSomeone() throws {
        #expect(try RuleExpectations.accepts(
            "When someone buys more than 5 units of SKU-8 on Etsy, tag the order bulk-etsy.",
            #"""
            {"trigger":{"event":"order.confirmed","scope":{"skus":["SKU-8"],"channels":["etsy"]}},
            "conditions":[{"metric":"order_qty","op":"gt","value":5}],"actions":[{"type":"tag_order",
            "tag":"bulk-etsy"}]}
            """#
        ) != nil)
    }

    @Test func cancellationsAndReturns() throws {
        #expect(try RuleExpectations.accepts(
            "When a Walmart order for SKU-8 gets canceled, notify ops.",
            #"""
            {"trigger":{"event":"order.cancelled","scope":{"skus":["SKU-8"],"channels":["walmart"]}},
            "conditions":[],"actions":[{"type":"notify","via":"default","to":"ops"}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "When an eBay return for SKU-8 comes in at Newark, notify the warehouse team.",
            #"""
            {"trigger":{"event":"return.received","scope":{"skus":["SKU-8"],"channels":["ebay"],
            "locations":["newark"]}},"conditions":[],"actions":[{"type":"notify","via":"default",
            "to":"warehouse"}]}
            """#
        ) != nil)
    }

    @Test func shipmentsAndReservations() throws {
        #expect(try RuleExpectations.accepts(
            "After a shipment from Globex arrives at the Reno DC, reconcile all channels now.",
            #"""
            {"trigger":{"event":"stock.received","scope":{"suppliers":["globex"],"locations":["reno"]}},
            "conditions":[],"actions":[{"type":"reconcile_channels"}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "When reserved units for SKU-8 expire, resume it on Walmart.",
            #"""
            {"trigger":{"event":"reservation.expired","scope":{"skus":["SKU-8"]}},"conditions":[],
            "actions":[{"type":"resume_listing","channels":["walmart"]}]}
            """#
        ) != nil)
    }

    @Test func demandSyncAndVariance() throws {
        #expect(try RuleExpectations.accepts(
            "When sales of SKU-8 double, set a safety stock multiplier of 2.5.",
            #"""
            {"trigger":{"event":"demand.spike","scope":{"skus":["SKU-8"]}},
            "conditions":[{"metric":"velocity_ratio","op":"gte","value":2,"edge":true}],
            "actions":[{"type":"set_safety_stock_multiplier","factor":2.5}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "If syncing to Walmart fails, reconcile Walmart.",
            #"""
            {"trigger":{"event":"sync.failed","scope":{"channels":["walmart"]}},"conditions":[],
            "actions":[{"type":"reconcile_channels","channels":["walmart"]}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "When channel counts differ by more than 5%, reconcile everything.",
            #"""
            {"trigger":{"event":"variance.detected","scope":{}},"conditions":[{"metric":"variance_pct",
            "op":"gt","value":5,"edge":true}],"actions":[{"type":"reconcile_channels"}]}
            """#
        ) != nil)
    }

    @Test func skuPatternsAndLists() throws {
        #expect(try RuleExpectations.accepts(
            "When SKUs like CAP-*-RED drop below 5, pause them on Amazon.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"sku_pattern":"CAP-*-RED"}},
            "conditions":[{"metric":"stock","op":"lt","value":5,"edge":true}],
            "actions":[{"type":"pause_listing","channels":["amazon"]}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "When SKU-3, SKU-1 and SKU-2 sell out, notify ops.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-1","SKU-2","SKU-3"]}},
            "conditions":[{"metric":"stock","op":"lte","value":0,"edge":true}],"actions":[{"type":"notify",
            "via":"default","to":"ops"}]}
            """#
        ) != nil)
    }
}
