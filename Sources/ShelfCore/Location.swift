/// A place stock lives in (warehouse, store, 3PL) with what it takes to ship from there.
public struct Location: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var aliases: [String]
    /// IANA time zone, e.g. `America/Los_Angeles`.
    public var timeZone: String
    /// Local order cut-off as `HH:MM`; orders after it start handling the next business day.
    public var cutoff: String
    /// Business days between the order day and handing the parcel to the carrier.
    public var handlingDays: Int
    /// Dates (local) on which the location does not ship.
    public var holidays: [CivilDate]
    /// ISO 3166-1 alpha-2 country and postal code of the location.
    public var country: String
    public var postalCode: String
    /// Lower ships first when several locations could fulfil.
    public var priority: Int
    /// Carrier services offered from here.
    public var services: [CarrierService]

    public init(
        id: String, name: String, aliases: [String] = [], timeZone: String, cutoff: String = "14:00", handlingDays: Int = 1,
        holidays: [CivilDate] = [], country: String = "US", postalCode: String = "", priority: Int = 0, services: [CarrierService] = []
    ) {
        self.id = id
        self.name = name
        self.aliases = aliases
        self.timeZone = timeZone
        self.cutoff = cutoff
        self.handlingDays = handlingDays
        self.holidays = holidays
        self.country = country
        self.postalCode = postalCode
        self.priority = priority
        self.services = services
    }
}

/// A carrier service with transit days per destination zone (zones keyed by the first digit(s) of a US postal code, or a country).
public struct CarrierService: Codable, Hashable, Sendable {
    public var carrier: String
    public var service: String
    /// Zone table: destination key (country code, or `US:<postal prefix>`) → transit business days.
    public var transit: [String: TransitDays]
    /// What the buyer pays for this service, when the seller publishes it (feeds carry it as the shipping price).
    public var rate: Money?

    public init(carrier: String, service: String, transit: [String: TransitDays], rate: Money? = nil) {
        self.carrier = carrier
        self.service = service
        self.transit = transit
        self.rate = rate
    }
}

/// Minimum and maximum transit business days.
public struct TransitDays: Codable, Hashable, Sendable {
    public var min: Int
    public var max: Int

    public init(min: Int, max: Int) {
        self.min = min
        self.max = max
    }
}
