import ShelfRules
import Testing

/// Every error code of §7.5, with its position (§7.4) and, where one exists, its closest known phrase (§7.6).
@Suite("Errors")
struct RuleErrorTests {
    @Test func noTriggerForABareCommand() throws {
        // Actions but no trigger: the trigger is a missing part, reported at the end of the input (§7.4, §10.8).
        let error = try RuleExpectations.rejects("Pause SKU-1 on Amazon.", .noTrigger, at: nil)
        #expect(error?.span.end == error?.span.start)
        #expect(error?.found == nil)
        try RuleExpectations.rejects("", .noTrigger, at: nil)
    }

    @Test func noActionAfterACompleteHead() throws {
        try RuleExpectations.rejects("Whenever SKU-1 sells out at Reno", .noAction, at: nil)
    }

    @Test func unexpectedEndInsideAComparison() throws {
        try RuleExpectations.rejects("When stock of SKU-1 is between 5 and", .unexpectedEnd, at: nil)
    }

    @Test func multipleTriggers() throws {
        try RuleExpectations.rejects("When an order is placed or a return is received, notify ops.", .multipleTriggers, at: "or")
        try RuleExpectations.rejects("Every day at 9am, when SKU-1 sells out, notify ops.", .multipleTriggers, at: "when")
    }

    @Test func misspelledWordSuggestsTheLexiconPhrase() throws {
        try RuleExpectations.rejects("When SKU-1 drops belw 5, notify ops.", .unknownPhrase, at: "belw", suggest: "below")
        try RuleExpectations.rejects("Wehn SKU-1 sells out, notify ops.", .unknownPhrase, at: "Wehn", suggest: "when")
    }

    @Test func lowerCaseSkuWithoutCatalogIsRejected() throws {
        try RuleExpectations.rejects("When tee-blk-m sells out, notify ops.", .unknownPhrase, at: "tee-blk-m", suggest: "TEE-BLK-M")
    }

    @Test func unknownEventSpansTheEventPhrase() throws {
        let error = try RuleExpectations.rejects("When the weather turns cold, notify ops.", .unknownEvent, at: "the")
        #expect(error?.found == "the weather turns cold")
    }

    @Test func unknownActionsUseTheNearMissMap() throws {
        try RuleExpectations.rejects("When SKU-1 sells out, unlist it.", .unknownAction, at: "unlist", suggest: "pause the listing")
        try RuleExpectations.rejects("When SKU-1 sells out, text ops.", .unknownAction, at: "text", suggest: "email")
        try RuleExpectations.rejects("When SKU-1 sells out, frobnicate the widget.", .unknownAction, at: "frobnicate")
    }

    @Test(
        "unknown catalog names suggest the closest alias",
        arguments: [
            ("When SKU-1 sells out, pause it on Etsi.", RuleErrorCode.unknownChannel, "Etsi", "Etsy"),
            ("When SKU-1 sells out, pause it on Tiktok Shopp.", .unknownChannel, "Tiktok", "TikTok Shop"),
            ("When SKU-1 sells out at Renoo, notify ops.", .unknownLocation, "Renoo", "Reno"),
            ("When SKU-1 sells out, reroute orders to Newrk DC.", .unknownLocation, "Newrk", "Newark DC"),
            ("When SKU-1 sells out, reorder 5 units from Acmee.", .unknownSupplier, "Acmee", "Acme"),
            ("When SKU-1 sells out, notify Danna.", .unknownTarget, "Danna", "Dana"),
            ("When SKU-1 sells out, notify the warehouse.", .unknownTarget, "warehouse", "warehouse team"),
            ("When anything in the Sumer Sale collection sells out, notify ops.", .unknownCollection, "Sumer", "Summer Sale"),
        ]
    )
    func unknownEntities(_ text: String, _ code: RuleErrorCode, _ at: String, _ suggestion: String) throws {
        let error = try RuleExpectations.rejects(text, code, at: at, suggest: suggestion)
        #expect(error?.hint?.isEmpty == false)
    }

    @Test func unknownNameWithoutSuggestionListsTheCatalog() throws {
        let error = try RuleExpectations.rejects("When SKU-1 sells out, pause it on Zalando.", .unknownChannel, at: "Zalando")
        #expect(error?.suggestions == [])
        #expect(error?.hint == "Connected channels: Amazon, eBay, Etsy, Shopify, TikTok Shop, Walmart.")
        #expect(error?.message == "Unknown channel 'Zalando'.")
    }

    @Test func unknownField() throws {
        try RuleExpectations.rejects("When an order comes in, if the order total is above $100, notify ops.", .unknownField, at: "total")
    }

    @Test func missingArguments() throws {
        try RuleExpectations.rejects("When SKU-1 sells out, hold back 3 units.", .missingArgument, at: "hold")
        try RuleExpectations.rejects("When an order comes in, if we've sold more than 5 units, notify ops.", .missingArgument, at: "we")
        // A schedule without a time is a missing part: an empty span at the end of the input (§10.8).
        let noTime = try RuleExpectations.rejects("Every day, reconcile all channels.", .missingArgument, at: nil)
        #expect(noTime?.span.end == noTime?.span.start)
        try RuleExpectations.rejects("When SKU-1 sells out, notify.", .missingArgument, at: "notify")
        try RuleExpectations.rejects("When Amazon sync fails, pause it on Amazon.", .missingArgument, at: "it")
    }

    @Test func ambiguities() throws {
        try RuleExpectations.rejects("When SKU-1 reaches 20, notify ops.", .ambiguous, at: "20", suggest: "rises to")
        try RuleExpectations.rejects("When it sells out, notify ops.", .ambiguousReference, at: "it")
        try RuleExpectations.rejects("Every Friday at 6, reconcile Etsy.", .ambiguousTime, at: "6", suggest: "6pm")
        try RuleExpectations.rejects(
            "When an order comes in, unless SKU-1 is below 5 or SKU-2 is below 5 and SKU-3 is below 5, notify ops.",
            .ambiguousPrecedence,
            at: "or"
        )
    }

    @Test func typeMismatches() throws {
        try RuleExpectations.rejects("When SKU-1 sells out, reorder 12.5 units.", .typeMismatch, at: "12.5")
        try RuleExpectations.rejects("When the price of SKU-1 drops below 10, notify ops.", .typeMismatch, at: "10")
        try RuleExpectations.rejects("When Amazon sync lag goes over 10 units, notify ops.", .typeMismatch, at: "10")
    }

    @Test func outOfRange() throws {
        try RuleExpectations.rejects("When SKU-1 sells out, set a safety stock multiplier of 12.", .outOfRange, at: "12")
        try RuleExpectations.rejects("When more than 5 orders come in within 100 days, notify ops.", .outOfRange, at: "within")
        try RuleExpectations.rejects("Every 3 minutes, reconcile everything.", .outOfRange, at: "Every")
    }

    @Test func contradictions() throws {
        try RuleExpectations.rejects("When SKU-1 drops below 5, if SKU-1 is above 10, notify ops.", .contradiction, at: "if")
        try RuleExpectations.rejects("When SKU-1 sells out, pause it on Etsy and resume it everywhere.", .contradiction, at: "resume")
    }

    @Test func incompatibleActions() throws {
        try RuleExpectations.rejects("Every day at 9am, tag the order daily.", .incompatibleAction, at: "tag")
        try RuleExpectations.rejects("When Amazon sync fails, double safety stock.", .incompatibleAction, at: "double")
    }

    @Test func unsupportedFeatures() throws {
        try RuleExpectations.rejects("When SKU-1 sells out, notify ops tomorrow.", .unsupported, at: "tomorrow")
        try RuleExpectations.rejects("Every month at 9am, reconcile everything.", .unsupported, at: "Every")
        try RuleExpectations.rejects("When the price of SKU-1 drops below €5, notify ops.", .unsupported, at: "€5")
        try RuleExpectations.rejects("When SKU-1 sells out, wait 2 hours and notify ops.", .unsupported, at: "wait")
        try RuleExpectations.rejects("When an order comes in, if SKU-1 is below 5 or SKU-2 is below 5, notify ops.", .unsupported, at: "or")
    }
}
