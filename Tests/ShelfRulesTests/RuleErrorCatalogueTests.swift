import ShelfRules
import Testing

/// The three error classes that used to differ from §7 (an unknown channel in "the <name> listing", actions without a
/// trigger, a listing action without a channel), and one more check per §7.5 code of its position and suggestions.
@Suite("Error catalogue (§7)")
struct RuleErrorCatalogueTests {
    static let connectedChannels = ["Amazon", "eBay", "Etsy", "Shopify", "TikTok Shop", "Walmart"]

    @Test(
        "an unknown channel named as 'the <name> listing' is E_UNKNOWN_CHANNEL with the connected channels",
        arguments: [
            "When SKU-1 sells out, pause the Zalando listing.",
            "When SKU-1 sells out, resume the Zalando listing for SKU-2.",
            "When SKU-1 sells out, pause the Zalando listings.",
        ]
    )
    func unknownChannelBeforeListing(_ text: String) throws {
        let error = try RuleExpectations.rejects(text, .unknownChannel, at: "Zalando")
        #expect(error?.found == "Zalando")
        #expect(error?.span.end == error.map { $0.span.start + 7 })
        #expect(error?.suggestions == [])
        #expect(error?.hint == "Connected channels: " + Self.connectedChannels.joined(separator: ", ") + ".")
    }

    @Test func misspelledChannelBeforeListingSuggestsTheClosestConnectedChannel() throws {
        let error = try RuleExpectations.rejects("When SKU-1 sells out, pause the Amazn listing.", .unknownChannel, at: "Amazn", suggest: "Amazon")
        #expect(error?.suggestions.first == "Amazon")
        try RuleExpectations.rejects("When SKU-1 sells out, pause the Wallmart listing.", .unknownChannel, at: "Wallmart", suggest: "Walmart")
    }

    @Test(
        "actions without a trigger are E_NO_TRIGGER at the end of the input",
        arguments: [
            "Pause the Amazon listing for SKU-1.",
            "Notify ops and reorder 5 units of SKU-1 from Acme",
            "Reconcile everything now!",
        ]
    )
    func actionsWithoutTrigger(_ text: String) throws {
        let error = try RuleExpectations.rejects(text, .noTrigger, at: nil)
        #expect(error?.span.start == error?.span.end)
        #expect(error?.found == nil)
    }

    @Test func nonsenseIsNoTriggerAtItsFirstWord() throws {
        let error = try RuleExpectations.rejects("purple monkey dishwasher", .noTrigger, at: "purple")
        #expect(error?.found == "purple")
    }

    @Test(
        "a listing action without a channel suggests itself on each connected channel",
        arguments: [
            ("When SKU-1 sells out, pause the listing.", "pause the listing"),
            ("When SKU-1 sells out, resume the listing.", "resume the listing"),
            ("When stock of SKU-1 drops below 3, pause it.", "pause it"),
        ]
    )
    func missingChannelSuggestsEachChannel(_ text: String, _ phrase: String) throws {
        let verb = String(phrase.split(separator: " ")[0])
        let error = try RuleExpectations.rejects(text, .missingArgument, at: verb)
        #expect(error?.found == phrase)
        #expect(error?.suggestions == Self.connectedChannels.map { "\(phrase) on \($0)" })
        #expect(error?.expected == ["channel"])
    }

    @Test func heldBackUnitsWithoutAChannelSuggestEachChannel() throws {
        let error = try RuleExpectations.rejects("When SKU-1 sells out, hold back 3 units.", .missingArgument, at: "hold")
        #expect(error?.suggestions == Self.connectedChannels.map { "hold back 3 units on \($0)" })
    }

    @Test func aListingWhoseTriggerNamesOneChannelInheritsIt() throws {
        let result = RuleParser.parse("When SKU-1 sells out on Amazon, pause the listing.", catalog: .demo)
        #expect(result.ok)
    }

    // One check per remaining §7.5 code: the span (§7.4, §10.8) and, where there is one, the closest phrase (§7.6).

    @Test func noActionIsAtTheEndOfInput() throws {
        let error = try RuleExpectations.rejects("When stock of SKU-4 drops below 10 units.", .noAction, at: nil)
        #expect(error?.span.start == error?.span.end)
    }

    @Test func unexpectedEndIsAtTheEndOfInput() throws {
        let error = try RuleExpectations.rejects("When SKU-1 drops below 10, notify ops and", .unexpectedEnd, at: nil)
        #expect(error?.span.start == error?.span.end)
    }

    @Test func multipleTriggersPointAtTheSecondEvent() throws {
        try RuleExpectations.rejects("When SKU-3 sells out or Amazon sync fails, notify ops.", .multipleTriggers, at: "or")
    }

    @Test func unknownPhraseSuggestsTheNearestExpectedWord() throws {
        let error = try RuleExpectations.rejects("When SKU-1 drops below 10, puase it on Amazon.", .unknownPhrase, at: "puase", suggest: "pause")
        #expect(error?.found == "puase")
        #expect((error?.suggestions.count ?? 0) <= 3)
    }

    @Test func unknownEventAndActionSpanTheirPhrase() throws {
        let event = try RuleExpectations.rejects("When the moon is full, double safety stock for SKU-1.", .unknownEvent, at: "the")
        #expect(event?.found == "the moon is full")
        let action = try RuleExpectations.rejects("When SKU-5 drops below 10, delete the product.", .unknownAction, at: "delete",
                                                  suggest: "pause the listing")
        #expect(action?.found == "delete the product")
    }

    @Test(
        "unknown catalog names span the name and suggest the closest alias",
        arguments: [
            ("When SKU-3 drops below 10, reroute orders to the Phoenix warehouse.", RuleErrorCode.unknownLocation, "Phoenix", nil),
            ("When SKU-1 sells out, reorder 5 units from Globx.", .unknownSupplier, "Globx", "Globex"),
            ("When SKU-3 drops below 10, notify the marketing team.", .unknownTarget, "marketing", nil),
            ("When anything in the Core Basix collection sells out, notify ops.", .unknownCollection, "Core", "Core Basics"),
            ("When SKU-9 sells out, pause it on Amazn.", .unknownChannel, "Amazn", "Amazon"),
        ] as [(String, RuleErrorCode, String, String?)]
    )
    func unknownCatalogNames(_ text: String, _ code: RuleErrorCode, _ at: String, _ suggestion: String?) throws {
        let error = try RuleExpectations.rejects(text, code, at: at, suggest: suggestion)
        #expect(error?.hint?.isEmpty == false)
        if suggestion == nil { #expect(error?.suggestions == []) }
    }

    @Test func unknownFieldPointsAtTheComparison() throws {
        try RuleExpectations.rejects("When an order over $500 comes in, tag the order vip.", .unknownField, at: "over")
    }

    @Test func ambiguitiesPointAtTheAmbiguousWord() throws {
        try RuleExpectations.rejects("When SKU-5 drops below 10, notify ops or pause the Amazon listing.", .ambiguous, at: "or")
        try RuleExpectations.rejects("When SKU-1 sells out, reorder 40 units of SKU-2 and pause it on eBay.", .ambiguousReference, at: "it")
        let time = try RuleExpectations.rejects("Every day at 8, reconcile all channels.", .ambiguousTime, at: "8", suggest: "8am")
        #expect(time?.suggestions.contains("8pm") == true)
        try RuleExpectations.rejects(
            "When an order comes in on Amazon, if SKU-1 is below 5 or SKU-2 is below 5 and Reno has more than 10, notify ops.",
            .ambiguousPrecedence, at: "or"
        )
    }

    @Test func typeMismatchPointsAtTheValue() throws {
        try RuleExpectations.rejects("When stock of SKU-2 drops below ten percent, notify ops.", .typeMismatch, at: "ten")
    }

    @Test func outOfRangePointsAtTheInterval() throws {
        try RuleExpectations.rejects("Every 10 seconds, reconcile all channels.", .outOfRange, at: "Every")
    }

    @Test func contradictionPointsAtTheConflictingPart() throws {
        try RuleExpectations.rejects("When SKU-1 drops below 10 and is above 20, notify ops.", .contradiction, at: "is")
    }

    @Test func incompatibleActionSpansTheAction() throws {
        let error = try RuleExpectations.rejects("When stock of SKU-4 drops below 10, tag the order low-stock.", .incompatibleAction, at: "tag")
        #expect(error?.found == "tag the order low-stock")
    }

    @Test func unsupportedPointsAtTheUnsupportedWord() throws {
        try RuleExpectations.rejects("When SKU-1 sells out, notify ops tomorrow.", .unsupported, at: "tomorrow")
    }
}
