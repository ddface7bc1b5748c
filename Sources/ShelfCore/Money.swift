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

    /// Digits after the decimal point for the currencies Shelf knows; 2 otherwise.
    public static func minorUnitDigits(_ currency: String) -> Int {
        switch currency {
        case "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF": return 0
        case "BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD": return 3
        default: return 2
        }
    }

    /// True when `code` has the shape of an ISO 4217 code (three upper-case ASCII letters).
    public static func isCurrencyCode(_ code: String) -> Bool {
        code.utf8.count == 3 && code.utf8.allSatisfy { $0 >= 65 && $0 <= 90 }
    }

    /// The amount as a decimal string in major units, e.g. `19.99` (no floating point involved).
    public var decimalString: String {
        let digits = Money.minorUnitDigits(currency)
        guard digits > 0 else { return String(amount) }
        var divisor: Int64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let sign = amount < 0 ? "-" : ""
        let magnitude = amount.magnitude
        let major = magnitude / UInt64(divisor)
        let minor = String(magnitude % UInt64(divisor))
        return "\(sign)\(major).\(String(repeating: "0", count: digits - minor.count))\(minor)"
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
