import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Runs the services only one node of a cluster may run at a time (the push workers, the reconciler, the rule engine, the
/// spike monitor, the reservation sweeper, watch deliveries) on the node that holds a PostgreSQL session advisory lock.
///
/// Every node tries `pg_try_advisory_lock` on its own connection every `retry`; the one that gets it starts the singletons
/// and checks its connection every `heartbeat`. The lock belongs to that session, so it is released the moment the node dies
/// (its connection closes). A leader that cannot confirm its session within `heartbeatTimeout` stops its singletons and
/// throws `LeadershipLost`: the process ends (like a controller whose lease lapsed) and its supervisor restarts it as a
/// follower. A node that gets the lock waits `heartbeat + heartbeatTimeout` before starting the singletons, the longest a
/// live former leader takes to notice, so two nodes do not run them at once (beyond a request already in flight).
public final class PostgresLeadership: Service, Sendable {
    /// The lock's key, the same on every node of a database ("SHELF_S1").
    public static let lockKey: Int64 = 0x5348_454C_465F_5331

    let configuration: PostgresConnection.Configuration
    let singletons: @Sendable () -> [any Service]
    let retry: Duration
    let heartbeat: Duration
    let heartbeatTimeout: Duration
    let onLeading: @Sendable (Bool) -> Void
    let logger: Logger
    private let leading = Atomic<Bool>(false)

    /// True while this node holds the lock and runs the singletons.
    public var isLeader: Bool { leading.load(ordering: .acquiring) }

    /// `singletons` is called once, when this node becomes the leader. `onLeading` hears every change of role.
    public init(configuration: PostgresConnection.Configuration, retry: Duration = .milliseconds(500), heartbeat: Duration = .milliseconds(500),
                heartbeatTimeout: Duration = .milliseconds(1500), logger: Logger = Logger(label: "shelf.cluster.leader"),
                onLeading: @escaping @Sendable (Bool) -> Void = { _ in }, singletons: @escaping @Sendable () -> [any Service]) {
        self.configuration = configuration
        self.singletons = singletons
        self.retry = retry
        self.heartbeat = heartbeat
        self.heartbeatTimeout = heartbeatTimeout
        self.onLeading = onLeading
        self.logger = logger
    }

    /// This node held the lock and could no longer confirm it: its singletons were stopped.
    public struct LeadershipLost: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "lost the singleton lock (\(reason)); exiting so that one node alone pushes" }
    }

    public func run() async throws {
        guard let connection = try await acquire() else { return }  // shut down while following
        do {
            try await lead(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    /// Runs the singletons while `connection` holds the lock.
    private func lead(_ connection: PostgresConnection) async throws {
        // A former leader whose session was cut (not ended) may still be running them: give it time to notice.
        let fenced: Bool = await cancelWhenGracefulShutdown { [heartbeat, heartbeatTimeout] in
            (try? await Task.sleep(for: heartbeat + heartbeatTimeout)) != nil
        }
        guard fenced else { return }
        leading.store(true, ordering: .releasing)
        onLeading(true)
        defer {
            leading.store(false, ordering: .releasing)
            onLeading(false)
        }
        logger.notice("this node now runs the singletons (push workers, reconciler, rules, monitors)")
        let group = ServiceGroup(services: singletons(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await withGracefulShutdownHandler {
                    try await group.run()
                } onGracefulShutdown: {
                    Task { await group.triggerGracefulShutdown() }
                }
            }
            tasks.addTask { try await self.confirm(connection) }
            // The singletons end at shutdown (then the heartbeat is cancelled); the heartbeat ends only by losing the lock.
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
    }

    /// Tries the lock every `retry` until it is held (the connection that holds it) or a graceful shutdown comes (nil).
    private func acquire() async throws -> PostgresConnection? {
        await cancelWhenGracefulShutdown {
            var attempt = 0
            while !Task.isCancelled {
                attempt += 1
                do {
                    let connection = try await PostgresConnection.connect(configuration: self.configuration, id: attempt, logger: self.logger)
                    do {
                        while !Task.isCancelled {
                            let rows = try await connection.query("SELECT pg_try_advisory_lock(\(Self.lockKey))", logger: self.logger)
                            var held = false
                            for try await value in rows.decode(Bool.self) { held = value }
                            if held { return connection }
                            try? await Task.sleep(for: self.retry)
                        }
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try? await connection.close()
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning("singleton lock could not be tried; retrying", metadata: ["error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: self.retry)
                }
            }
            return nil
        }
    }

    /// Confirms every `heartbeat` that the session holding the lock is alive; throws `LeadershipLost` when it is not.
    private func confirm(_ connection: PostgresConnection) async throws {
        while true {
            try await Task.sleep(for: heartbeat)
            guard await holdsLock(connection) else {
                throw LeadershipLost(reason: "its session did not confirm the lock within \(heartbeatTimeout)")
            }
        }
    }

    /// Whether `connection`'s session still holds the lock: false on an error, or when no answer comes within
    /// `heartbeatTimeout` (a query on a connection cut mid-flight may never answer, so it is not waited for).
    private func holdsLock(_ connection: PostgresConnection) async -> Bool {
        let answer = OneAnswer()
        return await withCheckedContinuation { continuation in
            answer.set(continuation)
            let query = Task {
                do {
                    let rows = try await connection.query(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted",
                        logger: self.logger
                    )
                    var n: Int64 = 0
                    for try await value in rows.decode(Int64.self) { n = value }
                    answer.give(n > 0)
                } catch {
                    self.logger.error("singleton lock heartbeat failed", metadata: ["error": "\(String(reflecting: error))"])
                    answer.give(false)
                }
            }
            Task {
                try? await Task.sleep(for: self.heartbeatTimeout)
                query.cancel()
                answer.give(false)
            }
        }
    }
}

/// The first of several answers, given to one waiting continuation.
private final class OneAnswer: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, Never>?, given: Bool)>((nil, false))

    func set(_ continuation: CheckedContinuation<Bool, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func give(_ value: Bool) {
        let waiting = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard !s.given, let c = s.continuation else { return nil }
            s.given = true
            s.continuation = nil
            return c
        }
        waiting?.resume(returning: value)
    }
}
