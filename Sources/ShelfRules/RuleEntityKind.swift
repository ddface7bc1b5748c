/// The kinds of catalog entities a sentence can name.
enum RuleEntityKind: Int, Sendable, Hashable, CaseIterable {
    case channel, location, supplier, target, collection

    /// The noun used in messages and in the `expected` list.
    var noun: String {
        switch self {
        case .channel: "channel"
        case .location: "location"
        case .supplier: "supplier"
        case .target: "notification target"
        case .collection: "collection"
        }
    }

    var unknownCode: RuleErrorCode {
        switch self {
        case .channel: .unknownChannel
        case .location: .unknownLocation
        case .supplier: .unknownSupplier
        case .target: .unknownTarget
        case .collection: .unknownCollection
        }
    }

    /// The opening of the hint that lists the known entries.
    var hintLead: String {
        switch self {
        case .channel: "Connected channels"
        case .location: "Known locations"
        case .supplier: "Known suppliers"
        case .target: "Notification targets"
        case .collection: "Collections"
        }
    }
}
