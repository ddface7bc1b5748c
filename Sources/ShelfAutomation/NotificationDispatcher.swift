import Foundation
import Logging
import ServiceLifecycle
import ShelfChannels
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// Delivers the notification outbox: POSTs each pending notification to its URL, many at once (at most `maxPerSeller` of one
/// seller's in flight, so a seller whose webhook hangs holds up only its own), deletes it on a 2xx, retries other answers and
/// timeouts with full-jitter backoff, and marks it dead after `maxAttempts` (an operator can replay it).
public final class NotificationDispatcher: Service, Sendable {
    /// Attempts, timeouts and concurrency of notification deliveries.
    public struct Policy: Sendable {
        public var maxAttempts: Int
        public var backoff: FullJitterBackoff
        public var requestTimeout: Duration
        public var maxInFlight: Int
        public var maxPerSeller: Int

        public init(maxAttempts: Int = 8, backoff: FullJitterBackoff = FullJitterBackoff(base: 1, cap: 300), requestTimeout: Duration = .seconds(5),
                    maxInFlight: Int = 64, maxPerSeller: Int = 4) {
            self.maxAttempts = max(1, maxAttempts)
            self.backoff = backoff
            self.requestTimeout = requestTimeout
            self.maxInFlight = max(1, maxInFlight)
            self.maxPerSeller = max(1, maxPerSeller)
        }
    }

    /// Deliveries so far.
    public struct Stats: Sendable, Hashable {
        public var delivered = 0
        public var retried = 0
        public var dead = 0
    }

    struct State {
        var inFlight: [Int64: String] = [:]
        var stats = Stats()
        var signal: AsyncStream<Void>.Continuation?
    }

    public let outbox: any NotificationOutbox
    let curl: CurlClient
    let clock: any WallClock
    let policy: Policy
    let logger: Logger
    private let state = Mutex(State())
    private let random = Mutex(SystemRandomNumberGenerator())

    public init(outbox: any NotificationOutbox, curl: CurlClient, clock: any WallClock, policy: Policy = Policy(),
                logger: Logger = Logger(label: "shelf.notifications")) {
        self.outbox = outbox
        self.curl = curl
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    /// Deliveries so far.
    public var stats: Stats { state.withLock { $0.stats } }

    /// Notifications being delivered now.
    public var inFlight: Int { state.withLock { $0.inFlight.count } }

    /// Asks the loop to look at the outbox now (a notification was queued or replayed).
    public func wake() { _ = state.withLock { $0.signal?.yield() } }

    public func run() async throws {
        let (signals, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.signal = continuation }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // Due retries are noticed within a second without a wake-up.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        continuation.yield()
                    }
                }
                continuation.yield()
                for await _ in signals {
                    for notification in await self.take() {
                        group.addTask {
                            await self.deliver(notification)
                            continuation.yield()
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        state.withLock { $0.signal = nil }
    }

    /// Delivers every notification due now once and waits for the answers (tools and tests); returns how many were attempted.
    @discardableResult
    public func deliverDue() async -> Int {
        let due = await take()
        await withTaskGroup(of: Void.self) { group in
            for n in due { group.addTask { await self.deliver(n) } }
        }
        return due.count
    }

    /// Due notifications that fit the in-flight limits, marked in flight.
    private func take() async -> [RuleNotification] {
        let busy = state.withLock { $0.inFlight }
        guard busy.count < policy.maxInFlight else { return [] }
        let due: [RuleNotification]
        do {
            due = try await outbox.due(now: clock.now(), excluding: Set(busy.keys), limit: policy.maxInFlight * 4)
        } catch {
            logger.error("notification outbox not readable", metadata: ["error": "\(error)"])
            return []
        }
        return state.withLock { s in
            var perSeller: [String: Int] = [:]
            for seller in s.inFlight.values { perSeller[seller, default: 0] += 1 }
            var taken: [RuleNotification] = []
            for n in due where s.inFlight[n.id] == nil && s.inFlight.count < policy.maxInFlight {
                guard perSeller[n.seller, default: 0] < policy.maxPerSeller else { continue }
                perSeller[n.seller, default: 0] += 1
                s.inFlight[n.id] = n.seller
                taken.append(n)
            }
            return taken
        }
    }

    private func deliver(_ n: RuleNotification) async {
        defer { _ = state.withLock { $0.inFlight.removeValue(forKey: n.id) } }
        var error: String?
        do {
            let response = try await curl.execute(CurlRequest(
                method: "POST", url: n.url,
                headers: [(name: "Content-Type", value: "application/json"), (name: "Idempotency-Key", value: "shelf-notification-\(n.id)")],
                body: Array(n.body.utf8), timeout: policy.requestTimeout, connectTimeout: .seconds(2)))
            if !(200..<300).contains(response.status) { error = "HTTP \(response.status)" }
        } catch let e as CurlError {
            if e == .shutdown { return }
            error = e.description
        } catch {
            return
        }
        let attempts = n.attempts + 1
        let outcome: RuleNotification.Outcome
        if let error {
            if attempts >= policy.maxAttempts {
                outcome = .dead(error: error)
            } else {
                let wait = random.withLock { policy.backoff.delay(attempt: n.attempts, using: &$0) }
                outcome = .retry(at: clock.now().addingTimeInterval(wait), error: error)
            }
        } else {
            outcome = .delivered
        }
        do {
            try await outbox.record(id: n.id, attempts: attempts, outcome: outcome)
        } catch {
            logger.error("notification outcome not recorded", metadata: ["id": "\(n.id)", "error": "\(error)"])
            return
        }
        state.withLock { s in
            switch outcome {
            case .delivered: s.stats.delivered += 1
            case .retry: s.stats.retried += 1
            case .dead: s.stats.dead += 1
            }
        }
        if case .dead(let reason) = outcome {
            logger.warning("notification given up", metadata: ["id": "\(n.id)", "seller": "\(n.seller)", "rule": "\(n.ruleId)", "error": "\(reason)"])
        }
    }
}
