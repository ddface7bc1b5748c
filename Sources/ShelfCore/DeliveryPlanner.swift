import Foundation

/// Where a parcel goes: country (ISO 3166-1 alpha-2) and, for the US, a postal code whose first digit picks the zone.
public struct Destination: Hashable, Sendable {
    public var country: String
    public var postalCode: String?

    public init(country: String = "US", postalCode: String? = nil) {
        self.country = country.uppercased()
        self.postalCode = postalCode
    }

    /// Keys into a carrier's transit table, most specific first.
    var zoneKeys: [String] { [zone] }

    /// The delivery zone: everything delivery options depend on (`US:<first postal digit>` for a US postal code, else the
    /// country), so two destinations with the same zone get the same options.
    public var zone: String {
        if country == "US", let first = postalCode?.first, first.isASCII, first.isNumber { return "US:\(first)" }
        return country
    }
}

/// One way to get the goods to the buyer: carrier service, fulfilling location, concrete dates and the order-by instant.
public struct DeliveryOption: Codable, Hashable, Sendable {
    public var carrier: String
    public var service: String
    public var location: String
    public var earliestDate: CivilDate
    public var latestDate: CivilDate
    /// Place the order before this instant for these dates (the location's cut-off on its processing day).
    public var orderBy: Date
    public var handlingDays: Int
    public var transitDays: TransitDays

    public init(
        carrier: String, service: String, location: String, earliestDate: CivilDate, latestDate: CivilDate, orderBy: Date,
        handlingDays: Int, transitDays: TransitDays
    ) {
        self.carrier = carrier
        self.service = service
        self.location = location
        self.earliestDate = earliestDate
        self.latestDate = latestDate
        self.orderBy = orderBy
        self.handlingDays = handlingDays
        self.transitDays = transitDays
    }
}

/// Computes delivery promises: the location's cut-off in its own time zone, handling and transit in business days,
/// weekends and the location's holidays skipped.
public enum DeliveryPlanner {
    /// The options for `qty` units of a SKU to `destination` at `now`: per carrier service, the location with enough stock
    /// that delivers earliest (ties: location priority). Locations without enough available stock are not used.
    public static func options(
        for state: SKUState, qty: Int, destination: Destination, catalog: SellerCatalog, now: Date
    ) -> [DeliveryOption] {
        options(for: state, qty: qty, catalog: catalog, now: now) { location in
            options(from: location, destination: destination, now: now, sellerHolidays: catalog.holidays)
        }
    }

    /// As `options(for:qty:destination:catalog:now:)`, with each location's own options (`options(from:...)` for the
    /// destination at `now`) supplied by `plan`, so a caller can reuse plans it computed before.
    public static func options(
        for state: SKUState, qty: Int, catalog: SellerCatalog, now: Date, plan: (Location) -> [DeliveryOption]
    ) -> [DeliveryOption] {
        var best: [String: (option: DeliveryOption, priority: Int)] = [:]
        for stock in state.stock where state.available(at: stock.location, now: now) >= max(1, qty) {
            guard let location = catalog.location(stock.location) else { continue }
            for option in plan(location) {
                let key = "\(option.carrier)/\(option.service)"
                if let current = best[key],
                    (current.option.earliestDate, current.option.latestDate, current.priority)
                        <= (option.earliestDate, option.latestDate, location.priority)
                {
                    continue
                }
                best[key] = (option, location.priority)
            }
        }
        return best.values.map(\.option).sorted {
            ($0.earliestDate, $0.latestDate, $0.carrier, $0.service) < ($1.earliestDate, $1.latestDate, $1.carrier, $1.service)
        }
    }

    /// Every service of one location to `destination`, ordered at `now`; `sellerHolidays` (the seller's business calendar) are
    /// skipped like the location's own.
    public static func options(from location: Location, destination: Destination, now: Date, sellerHolidays: [CivilDate] = []) -> [DeliveryOption] {
        guard let zone = TimeZone(identifier: location.timeZone) else { return [] }
        let holidays = sellerHolidays.isEmpty ? Set(location.holidays) : Set(location.holidays).union(sellerHolidays)
        func isBusinessDay(_ d: CivilDate) -> Bool { !d.isWeekend && !holidays.contains(d) }
        func addBusinessDays(_ d: CivilDate, _ n: Int) -> CivilDate {
            var day = d
            var left = n
            while left > 0 {
                day = day.adding(days: 1)
                if isBusinessDay(day) { left -= 1 }
            }
            return day
        }
        // Local wall time from the zone's offset at `now` (no Calendar on this per-request path).
        let epoch = Int64(now.timeIntervalSince1970.rounded(.down))
        let local = epoch + Int64(zone.secondsFromGMT(for: now))
        let localDay = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let (ty, tm, td) = CivilDate.fromDays(localDay)
        let today = CivilDate(year: ty, month: tm, day: td)
        let secondsToday = Int(local - localDay * 86_400)
        let cutoff = location.cutoff.split(separator: ":").compactMap { Int($0) }
        let (cutHour, cutMinute) = cutoff.count == 2 ? (cutoff[0], cutoff[1]) : (14, 0)
        var processing = today
        if !isBusinessDay(today) || secondsToday >= cutHour * 3600 + cutMinute * 60 {
            processing = addBusinessDays(today, 1)
        }
        // The cut-off instant on the processing day, with that day's own UTC offset (DST may differ from today's).
        let localCutoff = processing.dayNumber * 86_400 + Int64(cutHour * 3600 + cutMinute * 60)
        let guess = Date(timeIntervalSince1970: TimeInterval(localCutoff - Int64(zone.secondsFromGMT(for: now))))
        let orderBy = Date(timeIntervalSince1970: TimeInterval(localCutoff - Int64(zone.secondsFromGMT(for: guess))))
        // Handling 0 or 1: handed to the carrier on the processing day; n > 1: n − 1 business days later.
        let shipDate = addBusinessDays(processing, max(0, location.handlingDays - 1))
        var out: [DeliveryOption] = []
        for service in location.services {
            guard let transit = transitDays(service, destination) else { continue }
            out.append(
                DeliveryOption(
                    carrier: service.carrier, service: service.service, location: location.id,
                    earliestDate: addBusinessDays(shipDate, transit.min), latestDate: addBusinessDays(shipDate, transit.max),
                    orderBy: orderBy, handlingDays: location.handlingDays, transitDays: transit
                )
            )
        }
        return out
    }

    static func transitDays(_ service: CarrierService, _ destination: Destination) -> TransitDays? {
        for key in destination.zoneKeys {
            if let t = service.transit[key] { return t }
        }
        // A US destination without a usable postal code: the widest range over all US zones.
        if destination.country == "US" {
            let zones = service.transit.filter { $0.key.hasPrefix("US:") }.values
            guard let lo = zones.map(\.min).min(), let hi = zones.map(\.max).max() else { return nil }
            return TransitDays(min: lo, max: hi)
        }
        return nil
    }
}
