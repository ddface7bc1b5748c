import ShelfRules
import Testing

/// Guards (§3.5) and their meaning: level vs edge (§5.3), attribute folding (§5.4), negation (§5.5), scope (§5.6).
@Suite("Guards")
struct RuleGuardTests {
    @Test func unlessOrFoldsIntoExclusions() throws {
        #expect(try RuleExpectations.accepts(
            "When an order for SKU-6 is placed, tag it rush unless it's from Amazon or it's tagged slow-ship.",
            #"""
            {"trigger":{"event":"order.confirmed","scope":{"skus":["SKU-6"],"exclude_channels":["amazon"],
            "exclude_tags":["slow-ship"]}},"conditions":[],"actions":[{"type":"tag_order","tag":"rush"}]}
            """#
        ) != nil)
    }

    @Test func unlessStockGuardIsNegatedNotFlipped() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-6 drops below 5, reorder 20 units unless Dallas has at least 100 units of it.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-6"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":5,"edge":true},{"metric":"stock","op":"gte","value":100,
            "scope":{"locations":["dallas-3pl"]},"negate":true}],"actions":[{"type":"reorder","units":20}]}
            """#
        ) != nil)
    }

    @Test func changeTriggerWithLevelGuard() throws {
        #expect(try RuleExpectations.accepts(
            "Whenever stock of SKU-6 changes, if it is at most 3, notify ops.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-6"]}},"conditions":[{"metric":"stock",
            "op":"lte","value":3}],"actions":[{"type":"notify","via":"default","to":"ops"}]}
            """#
        ) != nil)
    }

    @Test func soldGuardWithWindow() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-6 drops below 5, reorder 30 units if we've sold more than 20 in the last 14 days.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-6"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":5,"edge":true},{"metric":"units_sold","op":"gt","value":20,"window":"P14D"}],
            "actions":[{"type":"reorder","units":30}]}
            """#
        ) != nil)
    }

    @Test func attributeGuardNarrowsTheTrigger() throws {
        #expect(try RuleExpectations.accepts(
            "When an order comes in, if it's from Etsy, tag the order etsy.",
            #"{"trigger":{"event":"order.confirmed","scope":{"channels":["etsy"]}},"conditions":[],"actions":[{"type":"tag_order","tag":"etsy"}]}"#
        ) != nil)
    }

    @Test func guardsDoNotInheritPlaceOrChannel() throws {
        #expect(try RuleExpectations.accepts(
            "When an Amazon order for SKU-6 is placed, if stock is under 5 and Walmart stock is under 2, pause it on Walmart.",
            #"""
            {"trigger":{"event":"order.confirmed","scope":{"skus":["SKU-6"],"channels":["amazon"]}},
            "conditions":[{"metric":"stock","op":"lt","value":5},{"metric":"stock","op":"lt","value":2,
            "scope":{"channels":["walmart"]}}],"actions":[{"type":"pause_listing","channels":["walmart"]}]}
            """#
        ) != nil)
    }
}
