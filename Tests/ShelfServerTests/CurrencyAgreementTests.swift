import Foundation
import ShelfConnectors
import ShelfCore
import ShelfRules
import Testing

@testable import ShelfServer

/// One ISO 4217 table: for every active code, the offer (minor units), a feed line (Google Merchant), a channel push body
/// (WooCommerce's decimal `regular_price`) and a rule condition written in that currency all say the same amount.
@Suite("ISO 4217: every active code agrees across offers, feeds, pushes and rules")
struct CurrencyAgreementTests {
    /// 12345 minor units, as a decimal in major units with `exponent` fraction digits.
    static func decimal(exponent: Int) -> String {
        let digits = "12345"
        guard exponent > 0 else { return digits }
        let cut = digits.index(digits.endIndex, offsetBy: -exponent)
        return String(digits[..<cut]) + "." + String(digits[cut...])
    }

    @Test("the table has every exponent ISO 4217 uses, with the known awkward codes right")
    func table() {
        #expect(ISO4217.exponents.count >= 150)
        #expect(Set(ISO4217.exponents.values) == [0, 2, 3, 4])
        for (code, exponent) in ["JPY": 0, "KRW": 0, "XPF": 0, "BIF": 0, "DJF": 0, "GNF": 0, "KMF": 0, "UYI": 0, "VUV": 0, "KWD": 3,
                                 "BHD": 3, "TND": 3, "CLF": 4, "UYW": 4, "USD": 2, "EUR": 2, "XCG": 2, "ZWG": 2] {
            #expect(ISO4217.exponent(code) == exponent, "\(code)")
        }
        #expect(ISO4217.exponent("XAU") == nil && ISO4217.exponent("ZZZ") == nil && ISO4217.exponent("usd") == nil)
    }

    @Test("offer, feed line, push body and rule agree for every active code", arguments: ISO4217.exponents.keys.sorted())
    func agreement(code: String) throws {
        let exponent = try #require(ISO4217.exponent(code))
        let money = Money(amount: 12345, currency: code)
        let expected = Self.decimal(exponent: exponent)

        // Offer: the price in minor units, as the offer JSON writes it.
        let offer = OfferView(
            sku: "SKU-1", title: "t", qty: 1, purchasable: true, stock: StockView(StockLevel(onHand: 1), available: 1, spikeMultiplier: 1),
            price: money, channel: nil, delivery: DeliveryView(options: []),
            freshness: FreshnessView(asOf: Date(timeIntervalSince1970: 1_795_400_000), ageMs: 0, freshnessScore: 1, channels: []),
            confidence: 1, reasons: [])
        let offerJSON = try #require(try JSONSerialization.jsonObject(with: Data(OfferJSON.encode(offer))) as? [String: Any])
        let price = try #require(offerJSON["price"] as? [String: Any])
        #expect(price["amount"] as? Int == 12345 && price["currency"] as? String == code)

        // Feed line: Google Merchant's "decimal CODE".
        #expect(GoogleMerchantRow.money(money) == "\(expected) \(code)")

        // Channel push body: WooCommerce takes the decimal price as a string.
        let push = try WooCommerceConnector(storeCurrency: code).pushRequests(
            [ListingUpdate(sku: "SKU-1", externalId: "77", quantity: 3, price: money)], settings: ConnectorSettings(baseURL: "http://127.0.0.1:1"))
        let request = try #require(push.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let update = try #require((body["update"] as? [[String: Any]])?.first)
        #expect(update["regular_price"] as? String == expected, "\(code): \(update)")
        #expect(Money(decimal: expected, currency: code) == money)

        // Rule: "below <decimal> <CODE>" in a store of that currency is the same number of minor units.
        let catalog = RuleCatalog(channels: [], locations: [], suppliers: [], notifyTargets: [RuleCatalogEntry(id: "me", aliases: ["me"])],
                                  collections: [], currency: code)
        let parsed = RuleParser.parse("When the price of SKU-3 drops below \(expected) \(code), notify me.", catalog: catalog)
        #expect(parsed.ok, "\(code): \(String(describing: parsed.error))")
        let rule = try #require(parsed.rule)
        let json = try #require(try JSONSerialization.jsonObject(with: RuleJSON.makeEncoder().encode(rule)) as? [String: Any])
        let condition = try #require((json["conditions"] as? [[String: Any]])?.first)
        let value = try #require(condition["value"] as? [String: Any])
        #expect(value["amount"] as? Int == 12345 && value["currency"] as? String == code, "\(code): \(condition)")
    }

    @Test("lower-case words that are currency codes stay words in rules")
    func lowerCaseCodesStayWords() {
        let catalog = RuleCatalog.demo
        // "all" is the Albanian lek's code; written in lower case it is the English word.
        let parsed = RuleParser.parse("When SKU-9 sells out, pause it on all channels.", catalog: catalog)
        #expect(parsed.ok, "\(String(describing: parsed.error))")
    }
}
