/// Exact conversions between integer minor units and decimal text.
enum MinorUnits {
    /// `1999, 2` → `"19.99"`; `-5, 2` → `"-0.05"`; `1999, 0` → `"1999"`.
    static func decimalString(_ amount: Int64, exponent: Int) -> String {
        guard exponent > 0 else { return String(amount) }
        let negative = amount < 0
        let magnitude = amount.magnitude
        var divisor: UInt64 = 1
        for _ in 0..<exponent { divisor *= 10 }
        let whole = magnitude / divisor
        var fraction = String(magnitude % divisor)
        while fraction.count < exponent { fraction = "0" + fraction }
        return (negative ? "-" : "") + "\(whole).\(fraction)"
    }

    /// `"19.99", 2` → 1999; `"19.9"` → 1990; `"20"` → 2000; `"1.999", 2` → nil (would lose precision).
    static func parse(_ text: String, exponent: Int) -> Int64? {
        var digits = Substring(text.trimmingWhitespace)
        var negative = false
        if digits.hasPrefix("-") {
            negative = true
            digits = digits.dropFirst()
        } else if digits.hasPrefix("+") {
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let wholeText = parts[0]
        var fractionText = parts.count == 2 ? parts[1] : ""
        guard !wholeText.isEmpty || !fractionText.isEmpty else { return nil }
        guard wholeText.allSatisfy(\.isASCIIDigit), fractionText.allSatisfy(\.isASCIIDigit) else { return nil }
        while fractionText.count > exponent, fractionText.hasSuffix("0") { fractionText = fractionText.dropLast() }
        guard fractionText.count <= exponent else { return nil }
        let paddedFraction = String(fractionText) + String(repeating: "0", count: exponent - fractionText.count)
        guard let combined = Int64((wholeText.isEmpty ? "0" : String(wholeText)) + paddedFraction) else { return nil }
        return negative ? -combined : combined
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
