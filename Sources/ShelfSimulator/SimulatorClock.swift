import Dispatch
import Foundation

/// Where the simulator reads time: wall clock for timestamps, monotonic nanoseconds for latency and rate budgets.
public protocol SimulatorClock: Sendable {
    /// Wall-clock now (RFC 3339 timestamps).
    func now() -> Date
    /// Monotonic nanoseconds (CLOCK_MONOTONIC on Linux): comparable across processes on one host.
    func monotonicNanos() -> UInt64
}

/// The real clocks.
public struct SystemSimulatorClock: SimulatorClock {
    public init() {}
    public func now() -> Date { Date() }
    public func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
