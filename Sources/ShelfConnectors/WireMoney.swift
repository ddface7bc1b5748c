/// Money: integer minor units + ISO 4217.
public struct WireMoney: Sendable, Codable, Hashable {
    /// Amount in the currency's minor units (cents for USD, yen for JPY).
    public var amount: Int64
    /// ISO 4217 alphabetic code, upper case.
    public var currency: String

    public init(amount: Int64, currency: String) {
        self.amount = amount
        self.currency = currency
    }

    /// The amount as a decimal string in major units (`1999 USD` → `"19.99"`), as most channel APIs want it.
    public var decimalString: String {
        MinorUnits.decimalString(amount, exponent: CurrencyExponent.of(currency))
    }

    /// Parses a decimal major-unit string (`"19.99"`, `19.9`, `"20"`) exactly; `nil` when it has more fraction
    /// digits than the currency allows or is not a plain decimal.
    public init?(decimal text: String, currency: String) {
        let code = currency.uppercased()
        guard let amount = MinorUnits.parse(text, exponent: CurrencyExponent.of(code)) else { return nil }
        self.init(amount: amount, currency: code)
    }
}
