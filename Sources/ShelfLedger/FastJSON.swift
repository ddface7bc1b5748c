import Foundation
import ShelfCore

/// Hand-written JSON for the two documents the writer encodes per event (the event body and the command outcome) when they
/// have their common, simple shape: the same sorted-key JSON `ShelfJSON` produces, without `JSONEncoder`'s cost. Anything
/// richer falls back to `ShelfJSON`.
enum FastJSON {
    static func event(_ e: ShelfEvent) -> String? {
        guard e.price == nil, e.item == nil, e.locationInfo == nil, e.channelInfo == nil, e.listing == nil, e.reservation == nil,
              e.levels == nil, e.listings == nil, e.allocation == nil
        else { return nil }
        var out = "{"
        var first = true
        func key(_ name: String) {
            if !first { out += "," }
            first = false
            out += "\"\(name)\":"
        }
        if let v = e.channel { key("channel"); string(v, into: &out) }
        if let v = e.fromLocation { key("fromLocation"); string(v, into: &out) }
        if let v = e.location { key("location"); string(v, into: &out) }
        if let v = e.note { key("note"); string(v, into: &out) }
        key("occurredAt"); out += "\"\(Timestamp.format(e.occurredAt))\""
        if let v = e.orderId { key("orderId"); string(v, into: &out) }
        if let v = e.qty { key("qty"); out += String(v) }
        if let v = e.ruleId { key("ruleId"); string(v, into: &out) }
        if let v = e.sku { key("sku"); string(v, into: &out) }
        if let v = e.spikeMultiplier { key("spikeMultiplier"); out += String(v) }
        key("type"); out += "\"\(e.type.rawValue)\""
        out += "}"
        return out
    }

    static func outcome(_ o: CommandOutcome) -> String? {
        guard o.reservation == nil else { return nil }
        var out = "{"
        if let a = o.available { out += "\"available\":\(a)," }
        out += "\"oversold\":\(o.oversold),\"sequence\":\(o.sequence),\"status\":\"\(o.status.rawValue)\"}"
        return out
    }

    /// Appends `s` as a JSON string literal (the one escaper, `JSONText`).
    static func string(_ s: String, into out: inout String) { out += JSONText.quoted(s) }
}
