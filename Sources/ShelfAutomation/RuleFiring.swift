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

    /// The cause as provenance, stable for one firing: `event:<sequence>`, `schedule:<occurrence>` or `lag:<connection>@<instant>`.
    func trigger(at now: Date) -> String {
        switch self {
        case .event(let e): "event:\(e.sequence)"
        case .schedule(let at): "schedule:\(Timestamp.format(at))"
        case .lag(let connection, _, _): "lag:\(connection)@\(Timestamp.format(now))"
        }
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
