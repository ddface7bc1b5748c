import Foundation
import NIOCore
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

    /// The offer's bytes cut around the values the clock moves (`confidence`, `freshness`, `reasons`), written by the same
    /// functions as `encode`, so `OfferTemplate.render` of the same values gives exactly `encode`'s bytes.
    static func template(_ o: OfferView) -> OfferTemplate {
        var w = OfferJSON()
        w.open()
        if let channel = o.channel { w.key("channel"); w.string(channel) }
        w.key("confidence")
        let head = w.cut()
        w.key("delivery"); w.open(); w.key("options"); w.array(o.delivery.options) { $0.option($1) }; w.close()
        w.key("freshness")
        let afterConfidence = w.cut()
        w.key("price"); w.money(o.price)
        w.key("purchasable"); w.bool(o.purchasable)
        w.key("qty"); w.int(o.qty)
        w.key("reasons")
        let afterFreshness = w.cut()
        w.key("sku"); w.string(o.sku)
        w.key("stock"); w.stock(o.stock)
        w.key("title"); w.string(o.title)
        w.close()
        return OfferTemplate(fragments: [head, afterConfidence, afterFreshness, w.bytes])
    }

    /// The bytes written so far, leaving the writer empty and in the state right after a value (the next key gets a comma).
    private mutating func cut() -> [UInt8] {
        defer {
            bytes = []
            needsComma = true
        }
        return bytes
    }

    /// Writes the values an `OfferTemplate` leaves open, each as the value of the key written before it.
    static func dynamics(_ d: OfferDynamics, into buffer: inout [UInt8]) -> (confidence: Range<Int>, freshness: Range<Int>, reasons: Range<Int>) {
        var w = OfferJSON()
        w.bytes = buffer
        let c0 = w.bytes.count
        w.double(d.confidence)
        w.needsComma = false
        let f0 = w.bytes.count
        w.freshness(d.freshness)
        w.needsComma = false
        let r0 = w.bytes.count
        w.array(d.reasons) { $0.string($1) }
        buffer = w.bytes
        return (c0..<f0, f0..<r0, r0..<buffer.count)
    }

    /// `GET /v1/stock/{sku}`'s answer, as `ShelfJSON` writes it (a test keeps the two byte-identical).
    static func encode(_ view: StockDetailView) -> [UInt8] {
        var w = OfferJSON()
        w.bytes.reserveCapacity(512 + 160 * (view.locations.count + view.channels.count))
        w.stockDetail(view)
        return w.bytes
    }

    mutating func stockDetail(_ v: StockDetailView) {
        open()
        key("asOf"); string(Timestamp.format(v.asOf))
        key("channels")
        array(v.channels) { w, c in
            w.open()
            w.key("buffer"); w.int(c.buffer)
            w.key("channel"); w.string(c.channel)
            if let connection = c.connection { w.key("connection"); w.string(connection) }
            w.key("externalId"); w.string(c.externalId)
            if let lag = c.lagMs { w.key("lagMs"); w.int(lag) }
            if let heard = c.lastHeardAt { w.key("lastHeardAt"); w.string(Timestamp.format(heard)) }
            if let pushed = c.lastPushedAt { w.key("lastPushedAt"); w.string(Timestamp.format(pushed)) }
            w.key("listed"); w.bool(c.listed)
            w.key("publishedQuantity"); w.int(c.publishedQuantity)
            w.close()
        }
        key("locations")
        array(v.locations) { w, l in
            w.open()
            w.key("available"); w.int(l.available)
            w.key("committed"); w.int(l.committed)
            w.key("incoming"); w.int(l.incoming)
            w.key("location"); w.string(l.location)
            w.key("onHand"); w.int(l.onHand)
            w.key("oversold"); w.int(l.oversold)
            w.key("reserved"); w.int(l.reserved)
            w.key("safetyStock"); w.int(l.safetyStock)
            w.key("unavailable"); w.int(l.unavailable)
            w.close()
        }
        key("sequence"); int(v.sequence)
        key("sku"); string(v.sku)
        key("spikeMultiplier"); int(v.spikeMultiplier)
        key("total"); stock(v.total)
        close()
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

/// An encoded offer with the clock-dependent values left open: `fragments[0]`, confidence, `fragments[1]`, freshness,
/// `fragments[2]`, reasons, `fragments[3]`.
struct OfferTemplate: Sendable {
    let fragments: [[UInt8]]

    /// Bytes held (the cache's measure of its memory).
    var byteCount: Int { fragments.reduce(0) { $0 + $1.count } }

    /// The whole offer with `dynamics` spliced in: byte for byte what `OfferJSON.encode` writes for the same offer.
    func render(_ dynamics: OfferDynamics) -> ByteBuffer {
        var values: [UInt8] = []
        values.reserveCapacity(512)
        let (confidence, freshness, reasons) = OfferJSON.dynamics(dynamics, into: &values)
        var out = ByteBuffer()
        out.reserveCapacity(byteCount + values.count)
        out.writeBytes(fragments[0])
        out.writeBytes(values[confidence])
        out.writeBytes(fragments[1])
        out.writeBytes(values[freshness])
        out.writeBytes(fragments[2])
        out.writeBytes(values[reasons])
        out.writeBytes(fragments[3])
        return out
    }
}
