import Foundation
import ShelfCore

/// What made a rule fire: a committed event, a schedule occurrence, or a connection whose sync lag crossed the threshold.
enum RuleFiring: Sendable {
    case event(LedgerEvent)
    case schedule(Date)
    case lag(connection: String, channel: String, seconds: TimeInterval)

    /// The event, when an event fired the rule.
    var event: LedgerEvent? {
        if case .event(let e) = self { return e }
        return nil
    }

    /// How the cause reads in notifications and the audit trail.
    var summary: String {
        switch self {
        case .event(let e): "\(e.event.type.rawValue) #\(e.sequence)"
        case .schedule(let at): "schedule \(Timestamp.format(at))"
        case .lag(let connection, _, let seconds): "sync lag \(Int(seconds.rounded())) s on \(connection)"
        }
    }
}
