import Foundation
import ShelfRules
import Testing

/// The canonical form (§7.2), the envelope (§7.3), catalogs (§8, §10.5) and determinism (§1).
@Suite("Canonical form")
struct RuleCanonicalFormTests {
    @Test func integralNumbersAreWrittenAsIntegers() throws {
        let rule = try #require(RuleParser.parse("When SKU-1 drops below 10, set a safety stock multiplier of 1.5.", catalog: .demo).rule)
        let json = try RuleJSON.canonicalString(rule)
        #expect(json.contains(#""value":10"#))
        #expect(!json.contains("10.0"))
        #expect(json.contains(#""factor":1.5"#))
        #expect(!json.contains("null"))
    }

    @Test func keysAreSortedAndStable() throws {
        let rule = try #require(RuleParser.parse("When SKU-123 drops below 10, notify ops.", catalog: .demo).rule)
        let json = try RuleJSON.canonicalString(rule)
        #expect(
            json
                == #"{"actions":[{"to":"ops","type":"notify","via":"default"}],"conditions":[{"edge":true,"metric":"stock","op":"lt","value":10}],"#
                + #""trigger":{"event":"stock.changed","scope":{"skus":["SKU-123"]}}}"#
        )
    }

    @Test func equivalentPhrasingsAreByteIdentical() throws {
        let first = try #require(
            RuleParser.parse("When stock of SKU-1 drops below 10, notify ops and pause the Amazon listing.", catalog: .demo).rule
        )
        let second = try #require(
            RuleParser.parse("tell the ops team and pause the AMZ listing whenever inventory for sku-1 falls under ten units", catalog: .demo).rule
        )
        #expect(try RuleJSON.canonicalString(first) == RuleJSON.canonicalString(second))
    }

    @Test func parsingIsDeterministic() throws {
        let text = "If orders for SKU-9 run at more than 3x the normal rate over the last hour, set a 5 unit buffer on Amazon."
        let results = try (0..<5).map { _ in try RuleJSON.canonicalString(RuleParser.parse(text, catalog: .demo)) }
        #expect(Set(results).count == 1)
    }

    @Test func rulesRoundTripThroughCodable() throws {
        let text = "When the Shopify price of TV-55-OLED falls below $1,299, lower the Amazon price by $50 unless it's tagged clearance."
        let rule = try #require(RuleParser.parse(text, catalog: .demo).rule)
        let data = try RuleJSON.makeEncoder().encode(rule)
        let decoded = try JSONDecoder().decode(Rule.self, from: data)
        #expect(decoded == rule)
    }

    @Test func explainEchoMatchesTheSpecExample() throws {
        let result = RuleParser.parse("When stock of SKU-123 drops below 10, notify ops and pause the Amazon listing.", catalog: .demo)
        #expect(
            result.explain
                == "WHEN stock.changed for SKU-123 AND stock crosses below 10 → notify ops (default medium); pause listing on amazon"
        )
    }

    @Test func envelopeOmitsAbsentParts() throws {
        let ok = try RuleJSON.canonicalString(RuleParser.parse("When SKU-1 sells out, notify ops.", catalog: .demo))
        #expect(ok.hasPrefix(#"{"explain":"#) && ok.contains(#""ok":true"#) && !ok.contains("error"))
        let failed = try RuleJSON.canonicalString(RuleParser.parse("When SKU-9 sells out, pause it on Amazn.", catalog: .demo))
        #expect(failed.contains(#""code":"E_UNKNOWN_CHANNEL""#) && failed.contains(#""ok":false"#) && !failed.contains("explain"))
        #expect(failed.contains(#""span":{"end":39,"start":34}"#))
    }

    @Test func skuCatalogAllowsLowerCaseSkus() throws {
        var catalog = RuleCatalog.demo
        catalog.skus = ["TEE-BLK-M"]
        try RuleExpectations.accepts(
            "when tee-blk-m sells out, notify ops",
            #"""
            {"trigger":{"event":"stock.changed","scope":{"skus":["TEE-BLK-M"]}},"conditions":[{"metric":"stock",
            "op":"lte","value":0,"edge":true}],"actions":[{"type":"notify","via":"default","to":"ops"}]}
            """#,
            catalog: catalog
        )
    }

    @Test func customCatalogAndCurrency() throws {
        let catalog = RuleCatalog(
            channels: [RuleCatalogEntry(id: "zalando", aliases: ["Zalando"])],
            locations: [RuleCatalogEntry(id: "berlin-dc", aliases: ["Berlin DC", "Berlin"])],
            suppliers: [],
            notifyTargets: [RuleCatalogEntry(id: "lager", aliases: ["Lager team"])],
            collections: [],
            currency: "EUR"
        )
        try RuleExpectations.accepts(
            "When the price of SKU-1 drops below €9.90 on Zalando, notify the Lager team.",
            #"""
            {"trigger":{"event":"price.changed","scope":{"skus":["SKU-1"],"channels":["zalando"]}},
            "conditions":[{"metric":"price","op":"lt","value":{"amount":990,"currency":"EUR"},"edge":true}],
            "actions":[{"type":"notify","via":"default","to":"lager"}]}
            """#,
            catalog: catalog
        )
        try RuleExpectations.rejects("When the price of SKU-1 drops below $9.90, notify the Lager team.", .unsupported, at: "$9.90", catalog: catalog)
        try RuleExpectations.rejects(
            "When SKU-1 sells out at Berlln, notify the Lager team.",
            .unknownLocation,
            at: "Berlln",
            suggest: "Berlin",
            catalog: catalog
        )
    }
}
