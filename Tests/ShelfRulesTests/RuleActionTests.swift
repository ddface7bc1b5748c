import ShelfRules
import Testing

/// Actions (§3.7, §4.4) and sentence order (§3.1): action-first sentences, separators, passives, inheritance.
@Suite("Actions")
struct RuleActionTests {
    @Test func actionsFirstOrder() throws {
        #expect(try RuleExpectations.accepts(
            "Pause SKU-3 on Walmart and eBay whenever it is out of stock.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lte","value":0,"edge":true}],"actions":[{"type":"pause_listing","channels":["ebay",
            "walmart"]}]}
            """#
        ) != nil)
    }

    @Test func separatorsKeepTextOrder() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 sells out, reconcile Walmart, then email purchasing, and also notify #ops-alerts.",
            ##"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lte","value":0,"edge":true}],"actions":[{"type":"reconcile_channels",
            "channels":["walmart"]},{"type":"notify","via":"email","to":"purchasing"},{"type":"notify",
            "via":"slack","to":"#ops-alerts"}]}
            """##
        ) != nil)
    }

    @Test func notifyListViaAndMessage() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 sells out, notify ops and Dana via Slack with 'SKU-3 is OUT'.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lte","value":0,"edge":true}],"actions":[{"type":"notify","via":"slack","to":"ops",
            "message":"SKU-3 is OUT"},{"type":"notify","via":"slack","to":"dana","message":"SKU-3 is OUT"}]}
            """#
        ) != nil)
    }

    @Test func passiveActionsBeforeTheTrigger() throws {
        #expect(try RuleExpectations.accepts(
            "SKU-3 should be resumed on Etsy as soon as it is back in stock.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"gt","value":0,"edge":true}],"actions":[{"type":"resume_listing","channels":["etsy"]}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "Purchasing should be emailed when SKU-3 drops below 4.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":4,"edge":true}],"actions":[{"type":"notify","via":"email","to":"purchasing"}]}
            """#
        ) != nil)
    }

    @Test func listingInheritsTheSingleTriggerChannel() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 drops below 2 on Etsy, pause the listing.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"],"channels":["etsy"]}},
            "conditions":[{"metric":"stock","op":"lt","value":2,"edge":true}],
            "actions":[{"type":"pause_listing","channels":["etsy"]}]}
            """#
        ) != nil)
    }

    @Test func everywhereExcept() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 sells out, pause it everywhere except Amazon.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lte","value":0,"edge":true}],"actions":[{"type":"pause_listing","channels":["all"],
            "exclude_channels":["amazon"]}]}
            """#
        ) != nil)
    }

    @Test func bufferAndSafetyStockAtLocation() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 drops below 20, keep 4 units off Walmart and set safety stock to 15 at Newark.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":20,"edge":true}],"actions":[{"type":"set_channel_buffer","channels":["walmart"],
            "units":4},{"type":"set_safety_stock","units":15,"locations":["newark"]}]}
            """#
        ) != nil)
    }

    @Test func priceAdjustments() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 drops below 20, raise the Etsy price by 12% and cut the Walmart price by $1.50.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":20,"edge":true}],"actions":[{"type":"adjust_price","percent":12,
            "channels":["etsy"]},{"type":"adjust_price","delta":{"amount":-150,"currency":"USD"},
            "channels":["walmart"]}]}
            """#
        ) != nil)
    }

    @Test func reorderWithSupplierAndDestination() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 drops below 20, reorder 250 units from Sunrise Textiles into the Dallas 3PL.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"]}},"conditions":[{"metric":"stock",
            "op":"lt","value":20,"edge":true}],"actions":[{"type":"reorder","units":250,"supplier":"sunrise",
            "location":"dallas-3pl"}]}
            """#
        ) != nil)
    }

    @Test func shipFromInstead() throws {
        #expect(try RuleExpectations.accepts(
            "When SKU-3 sells out at Reno, ship orders from Newark instead.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["SKU-3"],"locations":["reno"]}},
            "conditions":[{"metric":"stock","op":"lte","value":0,"edge":true}],
            "actions":[{"type":"reroute_orders","to":"newark"}]}
            """#
        ) != nil)
    }

    @Test func actionScopeDiffersFromTrigger() throws {
        #expect(try RuleExpectations.accepts(
            "If the Walmart sync fails, pause anything tagged walmart-only on Walmart.",
            #"""
            {"trigger":{"event":"sync.failed","scope":{"channels":["walmart"]}},"conditions":[],
            "actions":[{"type":"pause_listing","channels":["walmart"],"scope":{"tags":["walmart-only"]}}]}
            """#
        ) != nil)
    }

    @Test func elidedPossessorTakesTheOnlyItem() throws {
        #expect(try RuleExpectations.accepts(
            "When inventory drops below 6, prioritize sync for anything in the Holiday Gifts collection.",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"collection":"Holiday Gifts"}},
            "conditions":[{"metric":"stock","op":"lt","value":6,"edge":true}],
            "actions":[{"type":"prioritize_sync"}]}
            """#
        ) != nil)
    }
}
