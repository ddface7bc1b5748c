import Foundation
import ShelfConnectors
import Testing
import ShelfCore

@Suite("JSON, money and dates on the wire")
struct WireSupportTests {
    @Test func jsonKeepsLiteralsAndSortsKeys() throws {
        let value = try JSONValue.parse(#" {"b": 271878346596884015, "a": [1.50, "x\u00e9\n", true, null], "c": {"z": -0.0}} "#)
        #expect(value["b"]?.int64Value == 271_878_346_596_884_015)
        #expect(value["a"]?.arrayValue?.first == .number("1.50"))
        #expect(value.serializedText == #"{"a":[1.50,"xé\n",true,null],"b":271878346596884015,"c":{"z":-0.0}}"#)
        #expect(try JSONValue.parse(value.serializedBytes) == value)
        #expect(throws: ConnectorError.self) { try JSONValue.parse("{\"a\":1,}") }
        #expect(throws: ConnectorError.self) { try JSONValue.parse("[1] x") }
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func moneyIsExact() {
        #expect(Money(amount: 1999, currency: "USD").decimalString == "19.99")
        #expect(Money(amount: 5, currency: "usd").decimalString == "0.05")
        #expect(Money(amount: -1250, currency: "EUR").decimalString == "-12.50")
        #expect(Money(amount: 1500, currency: "JPY").decimalString == "1500")
        #expect(Money(amount: 1234, currency: "KWD").decimalString == "1.234")
        #expect(Money(decimal: "19.99", currency: "USD") == Money(amount: 1999, currency: "USD"))
        #expect(Money(decimal: "19.9", currency: "usd") == Money(amount: 1990, currency: "USD"))
        #expect(Money(decimal: "20.000", currency: "USD") == Money(amount: 2000, currency: "USD"))
        #expect(Money(decimal: "0.1", currency: "USD")?.amount == 10)
        #expect(Money(decimal: "1.999", currency: "USD") == nil)
        #expect(Money(decimal: "1e3", currency: "USD") == nil)
        #expect(Money(decimal: "1500.5", currency: "JPY") == nil)
    }

    @Test func datesParseOffsetsAndFormatMillis() {
        #expect(Timestamp.parse("2026-01-09T12:00:00-05:00") == Date(timeIntervalSince1970: 1_767_978_000))
        #expect(Timestamp.parse("2026-01-09T17:00:00.5Z") == Date(timeIntervalSince1970: 1_767_978_000.5))
        #expect(Timestamp.parse("2026-01-09 17:00:00+00:00") == Date(timeIntervalSince1970: 1_767_978_000))
        #expect(Timestamp.parse("2026-13-09T17:00:00Z") == nil)
        #expect(Timestamp.parse("2026-01-09T17:00:00") == nil)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_413_600.12)) == "2026-11-23T06:00:00.120Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.formatSeconds(Date(timeIntervalSince1970: 1_795_413_600.9)) == "2026-11-23T06:00:00Z")
    }

    @Test func constantTimeCompareNeedsEqualNonEmptyInput() {
        #expect(WebhookCrypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!WebhookCrypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!WebhookCrypto.constantTimeEquals([1, 2], [1, 2, 3]))
        #expect(!WebhookCrypto.constantTimeEquals([], []))
        #expect(WebhookCrypto.hexDecode("0aFF") == [0x0A, 0xFF])
        #expect(WebhookCrypto.hexDecode("0g") == nil)
    }

    @Test func connectorsCoverEveryKind() {
        for kind in ChannelKind.allCases {
            #expect(Connectors.connector(for: kind).kind == kind)
        }
    }
}
