import Foundation
import ShelfCore
import Testing

@Suite("Delivery calendar without Calendar")
struct DeliveryCalendarTests {
    /// The cut-off and processing day as Foundation's Calendar computes them in the location's zone.
    static func reference(_ location: Location, now: Date) -> (orderBy: Date, processing: CivilDate) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: location.timeZone)!
        let holidays = Set(location.holidays)
        func business(_ d: CivilDate) -> Bool { !d.isWeekend && !holidays.contains(d) }
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: now)
        var day = CivilDate(year: parts.year!, month: parts.month!, day: parts.day!)
        let cut = location.cutoff.split(separator: ":").map { Int($0)! }
        if !business(day) || parts.hour! * 3600 + parts.minute! * 60 + parts.second! >= cut[0] * 3600 + cut[1] * 60 {
            repeat { day = day.adding(days: 1) } while !business(day)
        }
        let orderBy = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: cut[0], minute: cut[1]))!
        return (orderBy, day)
    }

    @Test("order-by cut-offs equal Calendar's across a year of instants in five zones, DST changes included",
          arguments: ["America/Los_Angeles", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"])
    func matchesCalendar(zone: String) {
        let location = Location(
            id: "w", name: "W", timeZone: zone, cutoff: "14:30", handlingDays: 1,
            holidays: [CivilDate(year: 2026, month: 11, day: 26), CivilDate(year: 2026, month: 3, day: 9)],
            services: [CarrierService(carrier: "c", service: "s", transit: ["US": TransitDays(min: 1, max: 2)])]
        )
        var instant = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        var compared = 0
        while instant.timeIntervalSince1970 < 1_798_761_600 {  // 2027-01-01
            let option = DeliveryPlanner.options(from: location, destination: Destination(country: "US"), now: instant)
            let expected = Self.reference(location, now: instant)
            #expect(option.first?.orderBy == expected.orderBy, "\(zone) at \(Timestamp.format(instant))")
            #expect(option.first?.earliestDate == expected.processing.adding(days: 0).nextBusiness(after: 1, holidays: location.holidays))
            if option.first?.orderBy != expected.orderBy { return }
            compared += 1
            instant += 97 * 60
        }
        #expect(compared > 5_000)
    }
}

extension CivilDate {
    /// `n` business days after this day (weekends and `holidays` skipped).
    func nextBusiness(after n: Int, holidays: [CivilDate]) -> CivilDate {
        var day = self
        var left = n
        while left > 0 {
            day = day.adding(days: 1)
            if !day.isWeekend && !holidays.contains(day) { left -= 1 }
        }
        return day
    }
}
