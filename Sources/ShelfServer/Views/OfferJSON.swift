import Foundation
import ShelfCore

/// Writes an `OfferView` as the exact bytes `ShelfJSON` produces (sorted keys, RFC 3339 instants, dates as `YYYY-MM-DD`),
/// without `JSONEncoder`: the offer is the hottest answer Shelf gives. A test keeps the two byte-identical.
struct OfferJSON {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    static func encode(_ offer: OfferView) -> [UInt8] {
        var w = OfferJSON()
        w.bytes.reserveCapacity(1024)
        w.offer(offer)
        return w.bytes
    }

    mutating func offer(_ o: OfferView) {
        open()
        if let channel = o.channel { key("channel"); string(channel) }
        key("confidence"); double(o.confidence)
        key("delivery"); open(); key("options"); array(o.delivery.options) { $0.option($1) }; close()
        key("freshness"); freshness(o.freshness)
        key("price"); money(o.price)
        key("purchasable"); bool(o.purchasable)
        key("qty"); int(o.qty)
        key("reasons"); array(o.reasons) { $0.string($1) }
        key("sku"); string(o.sku)
        key("stock"); stock(o.stock)
        key("title"); string(o.title)
        close()
    }

    mutating func option(_ d: DeliveryOptionView) {
        open()
        key("carrier"); string(d.carrier)
        key("earliestDate"); string(d.earliestDate.description)
        key("handlingDays"); int(d.handlingDays)
        key("latestDate"); string(d.latestDate.description)
        key("location"); string(d.location)
        key("orderBy"); string(Timestamp.format(d.orderBy))
        key("service"); string(d.service)
        key("transitDays"); open(); key("max"); int(d.transitDays.max); key("min"); int(d.transitDays.min); close()
        close()
    }

    mutating func freshness(_ f: FreshnessView) {
        open()
        key("ageMs"); int(f.ageMs)
        key("asOf"); string(Timestamp.format(f.asOf))
        key("channels")
        array(f.channels) { w, c in
            w.open()
            w.key("channel"); w.string(c.channel)
            w.key("connection"); w.string(c.connection)
            if let lag = c.lagMs { w.key("lagMs"); w.int(lag) }
            if let heard = c.lastHeardAt { w.key("lastHeardAt"); w.string(Timestamp.format(heard)) }
            if let delay = c.reportingDelayMs { w.key("reportingDelayMs"); w.int(delay) }
            w.key("salesPerHour"); w.double(c.salesPerHour)
            if let source = c.source { w.key("source"); w.string(source) }
            w.close()
        }
        key("freshnessScore"); double(f.freshnessScore)
        close()
    }

    mutating func stock(_ s: StockView) {
        open()
        key("available"); int(s.available)
        key("committed"); int(s.committed)
        key("incoming"); int(s.incoming)
        key("onHand"); int(s.onHand)
        key("oversold"); int(s.oversold)
        key("reserved"); int(s.reserved)
        key("safetyStock"); int(s.safetyStock)
        key("unavailable"); int(s.unavailable)
        close()
    }

    mutating func money(_ m: Money) {
        open(); key("amount"); int(m.amount); key("currency"); string(m.currency); close()
    }

    // MARK: Primitives

    mutating func open() {
        comma()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<T>(_ items: [T], _ element: (inout OfferJSON, T) -> Void) {
        comma()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for item in items { element(&self, item) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func key(_ name: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func comma() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func int<I: BinaryInteger>(_ n: I) {
        comma()
        bytes.append(contentsOf: String(n).utf8)
        needsComma = true
    }

    mutating func bool(_ b: Bool) {
        comma()
        bytes.append(contentsOf: (b ? "true" : "false").utf8)
        needsComma = true
    }

    /// As `JSONEncoder` writes a finite Double: integral values without a fraction, others in Swift's shortest form.
    mutating func double(_ d: Double) {
        comma()
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
            bytes.append(contentsOf: String(Int64(d)).utf8)
        } else {
            bytes.append(contentsOf: d.description.utf8)
        }
        needsComma = true
    }

    /// A JSON string literal, escaped as `JSONEncoder` does with `.withoutEscapingSlashes` (the one escaper, `JSONText`).
    mutating func string(_ s: String) {
        comma()
        JSONText.appendQuoted(s, to: &bytes)
        needsComma = true
    }
}
