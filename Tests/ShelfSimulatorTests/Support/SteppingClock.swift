import Foundation
import ShelfSimulator
import Synchronization

/// A clock tests move by hand, so rate budgets never depend on how fast the machine is.
final class SteppingClock: SimulatorClock {
    private let offsetNanos = Mutex<UInt64>(0)
    private let start = Date(timeIntervalSince1970: 1_795_413_600)

    func now() -> Date {
        start.addingTimeInterval(TimeInterval(offsetNanos.withLock { $0 }) / 1_000_000_000)
    }

    func monotonicNanos() -> UInt64 {
        1_000_000_000 + offsetNanos.withLock { $0 }
    }

    func advance(milliseconds: UInt64) {
        offsetNanos.withLock { $0 += milliseconds * 1_000_000 }
    }
}
