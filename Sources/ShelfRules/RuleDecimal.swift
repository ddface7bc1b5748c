/// A decimal literal as written (`1,299.50`, `2.5x`, `15min`): its value, exact digits and any trailing suffix.
struct RuleDecimal: Sendable {
    var value: Double
    var integerDigits: String
    var fractionDigits: String
    var suffix: String

    /// Parses a leading decimal number with optional thousands commas; the rest of the text becomes `suffix`.
    init?(parsing text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        var integer = ""
        var fraction = ""
        while index < bytes.count {
            let byte = bytes[index]
            if (0x30...0x39).contains(byte) {
                integer.append(Character(Unicode.Scalar(byte)))
                index += 1
            } else if byte == UInt8(ascii: ","), !integer.isEmpty, index + 3 < bytes.count,
                (1...3).allSatisfy({ (0x30...0x39).contains(bytes[index + $0]) }),
                index + 4 >= bytes.count || !(0x30...0x39).contains(bytes[index + 4])
            {
                index += 1
            } else {
                break
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "."), index + 1 < bytes.count, (0x30...0x39).contains(bytes[index + 1]) {
            index += 1
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                fraction.append(Character(Unicode.Scalar(bytes[index])))
                index += 1
            }
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        let literal = (integer.isEmpty ? "0" : integer) + (fraction.isEmpty ? "" : "." + fraction)
        guard let value = Double(literal) else { return nil }
        self.value = value
        integerDigits = integer.isEmpty ? "0" : integer
        fractionDigits = fraction
        suffix = String(decoding: bytes[index...], as: UTF8.self)
    }

    /// A decimal from an already-lexed number token (digits or number words).
    init(value: Double, text: String) {
        if let parsed = RuleDecimal(parsing: text), parsed.suffix.isEmpty {
            self = parsed
        } else {
            self.value = value
            let whole = min(value, 1e15).rounded(.towardZero)
            integerDigits = String(Int(whole))
            let cents = Int(((value - whole) * 100).rounded())
            fractionDigits = cents == 0 ? "" : (cents < 10 ? "0\(cents)" : "\(cents)")
            suffix = ""
        }
    }

    /// The amount in minor units with `exponent` decimals, or nil when more decimals were written.
    func minorUnits(exponent: Int) -> Int? {
        var fraction = fractionDigits
        if suffix == "k" {
            guard value.rounded() == value || (value * 1000).rounded() == value * 1000 else { return nil }
            let scaled = value * 1000
            return Int((scaled * pow10(exponent)).rounded())
        }
        guard fraction.count <= exponent else { return nil }
        while fraction.count < exponent { fraction.append("0") }
        guard let whole = Int(integerDigits), let part = Int(fraction.isEmpty ? "0" : fraction) else { return nil }
        return whole * Int(pow10(exponent)) + part
    }

    private func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}
