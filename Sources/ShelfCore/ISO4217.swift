/// The ISO 4217 table: every active alphabetic currency code with its minor-unit exponent (digits after the decimal point),
/// from the ISO 4217 maintenance agency's list one (2025 amendments: XCG, ZWG). Codes whose exponent is "N.A." (precious
/// metals, XDR, testing codes) are not money a seller prices in and are left out. The one table Shelf reads.
public enum ISO4217 {
    /// Code → minor-unit exponent (0, 2, 3 or 4).
    public static let exponents: [String: Int] = {
        var table: [String: Int] = [:]
        for code in zero { table[code] = 0 }
        for code in three { table[code] = 3 }
        for code in four { table[code] = 4 }
        for code in two { table[code] = 2 }
        return table
    }()

    /// The exponent of an active code, nil for a code that is not in the table.
    public static func exponent(_ code: String) -> Int? { exponents[code] }

    /// True for an active ISO 4217 code.
    public static func isActive(_ code: String) -> Bool { exponents[code] != nil }

    static let zero = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"]
    static let three = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
    static let four = ["CLF", "UYW"]
    static let two = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BOV",
        "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
        "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL",
        "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
        "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
        "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK",
        "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS",
        "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
    ]
}
