/// An exact amount of money: integer minor units plus an ISO 4217 currency code, as ACP and UCP carry it.
public struct Money: Codable, Hashable, Sendable {
    /// Minor units (cents for USD, yen for JPY).
    public var amount: Int64
    /// ISO 4217 alphabetic code, upper case.
    public var currency: String

    public init(amount: Int64, currency: String) {
        self.amount = amount
        self.currency = currency
    }

    /// Digits after the decimal point: the ISO 4217 exponent (0, 2, 3 or 4); 2 for a code outside the table.
    public static func minorUnitDigits(_ currency: String) -> Int { ISO4217.exponent(currency) ?? 2 }

    /// True when `code` has the shape of an ISO 4217 code (three upper-case ASCII letters).
    public static func isCurrencyCode(_ code: String) -> Bool {
        code.utf8.count == 3 && code.utf8.allSatisfy { $0 >= 65 && $0 <= 90 }
    }

    /// The amount as a decimal string in major units with the currency's exponent (`1999 USD` → `"19.99"`, `500 JPY` → `"500"`,
    /// `1 KWD` → `"0.001"`), as feeds and most channel APIs want it; no floating point involved.
    public var decimalString: String { Money.decimalString(amount, exponent: Money.minorUnitDigits(currency)) }

    /// `1999, 2` → `"19.99"`; `-5, 2` → `"-0.05"`; `1999, 0` → `"1999"`.
    public static func decimalString(_ amount: Int64, exponent: Int) -> String {
        guard exponent > 0 else { return String(amount) }
        var divisor: UInt64 = 1
        for _ in 0..<exponent { divisor *= 10 }
        let magnitude = amount.magnitude
        let minor = String(magnitude % divisor)
        return (amount < 0 ? "-" : "") + "\(magnitude / divisor)." + String(repeating: "0", count: exponent - minor.count) + minor
    }

    /// Parses a decimal major-unit string (`"19.99"`, `"19.9"`, `"20"`) exactly in `currency`'s exponent; nil when it has more
    /// fraction digits than the currency allows (trailing zeros aside), is not a plain decimal, or does not fit.
    public init?(decimal text: String, currency: String) {
        let code = currency.uppercased()
        guard let amount = Money.parseMinorUnits(text, exponent: Money.minorUnitDigits(code)) else { return nil }
        self.init(amount: amount, currency: code)
    }

    /// `"19.99", 2` → 1999; `"19.9"` → 1990; `"20"` → 2000; `"1.999", 2` → nil (would lose precision).
    public static func parseMinorUnits(_ text: String, exponent: Int) -> Int64? {
        var digits = Substring(text)
        while let first = digits.first, first.isWhitespace { digits = digits.dropFirst() }
        while let last = digits.last, last.isWhitespace { digits = digits.dropLast() }
        var negative = false
        if digits.hasPrefix("-") {
            negative = true
            digits = digits.dropFirst()
        } else if digits.hasPrefix("+") {
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let whole = parts[0]
        var fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        guard whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit) else { return nil }
        while fraction.count > exponent, fraction.hasSuffix("0") { fraction = fraction.dropLast() }
        guard fraction.count <= exponent else { return nil }
        let padded = String(fraction) + String(repeating: "0", count: exponent - fraction.count)
        guard let combined = Int64((whole.isEmpty ? "0" : String(whole)) + padded) else { return nil }
        return negative ? -combined : combined
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex of the bytes (no `String(format:)`, which is slow on Linux).
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
