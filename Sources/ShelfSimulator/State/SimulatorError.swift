/// Errors of the simulator's control API.
public enum SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownConnection(String)
    case unknownItem(connection: String, externalId: String)
    case invalid(String)
    case notLoopback(String)

    public var description: String {
        switch self {
        case .unknownConnection(let id): return "unknown connection '\(id)'"
        case .unknownItem(let connection, let externalId): return "connection '\(connection)' has no item '\(externalId)'"
        case .invalid(let reason): return reason
        case .notLoopback(let host): return "shelf-sim binds loopback only; '\(host)' is not a loopback address"
        }
    }
}
