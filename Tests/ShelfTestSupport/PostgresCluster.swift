import Foundation
import Logging
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary directory, `pg_ctl start` on a free 127.0.0.1
/// port (its unix socket in the same directory), one fresh database per test, `pg_ctl stop -m immediate` at the end.
/// Started once per test process by `PostgresClusterTrait` around the suites that use it.
public final class PostgresCluster: Sendable {
    public let directory: URL
    public let port: Int
    public let binaries: URL
    /// The user the server runs as when the tests run as root (initdb refuses root).
    public let runAs: String?

    /// Why the cluster could not start, with what to do about it.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where `initdb` and `pg_ctl` live: on PATH, else Debian's /usr/lib/postgresql/<version>/bin.
    public static func findBinaries() throws -> URL {
        let fm = FileManager.default
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) where fm.isExecutableFile(atPath: dir + "/initdb") && fm.isExecutableFile(atPath: dir + "/pg_ctl") {
            return URL(fileURLWithPath: dir)
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for v in versions where fm.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") {
            return URL(fileURLWithPath: "\(root)/\(v)/bin")
        }
        throw Unavailable(description: """
            PostgreSQL's initdb and pg_ctl were not found on PATH nor under /usr/lib/postgresql/*/bin: the PostgreSQL ledger \
            conformance tests need a local server. Install it (Debian: apt-get install postgresql; `make test-deps` does).
            """)
    }

    public static func start() throws -> PostgresCluster {
        let binaries = try findBinaries()
        let fm = FileManager.default
        let directory = fm.temporaryDirectory.appendingPathComponent("shelf-pg-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var runAs: String?
        if getuid() == 0 {
            // initdb and postgres refuse to run as root: run them as PostgreSQL's own user (or nobody) in a directory it owns.
            let user = getpwnam("postgres") != nil ? "postgres" : "nobody"
            guard let pw = getpwnam(user) else { throw Unavailable(description: "running as root and no 'postgres' or 'nobody' user to run PostgreSQL as") }
            guard chown(directory.path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw Unavailable(description: "cannot hand \(directory.path) to user \(user)")
            }
            runAs = user
        }
        let port = try freePort()
        let cluster = PostgresCluster(directory: directory, port: port, binaries: binaries, runAs: runAs)
        let data = directory.appendingPathComponent("data").path
        try cluster.run("initdb", ["-D", data, "-U", "shelf", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory.path) -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        try cluster.run("pg_ctl", ["start", "-w", "-D", data, "-l", directory.appendingPathComponent("server.log").path, "-o", options])
        return cluster
    }

    private init(directory: URL, port: Int, binaries: URL, runAs: String?) {
        self.directory = directory
        self.port = port
        self.binaries = binaries
        self.runAs = runAs
    }

    /// Stops the server at once and removes its files.
    public func stop() {
        try? run("pg_ctl", ["stop", "-m", "immediate", "-D", directory.appendingPathComponent("data").path])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs one of PostgreSQL's programs (as `runAs` when set), failing with its output when it fails. Spawned and reaped
    /// with posix_spawn/waitpid; its output goes to a file, not a pipe (the server pg_ctl starts would hold a pipe open).
    private func run(_ program: String, _ arguments: [String]) throws {
        let tool = binaries.appendingPathComponent(program).path
        let argv = runAs.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--clear-groups", "--", tool] + arguments }
            ?? [tool] + arguments
        let outputPath = directory.appendingPathComponent("\(program).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw Unavailable(description: "cannot start \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(program) \(arguments.joined(separator: " ")) failed (wait status \(status)): \(text)")
        }
    }

    /// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick for a socket bound to port 0).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Unavailable(description: "cannot bind a port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public func configuration(database: String) -> PostgresClient.Configuration {
        PostgresClient.Configuration(host: "127.0.0.1", port: port, username: "shelf", password: nil, database: database, tls: .disable)
    }

    /// One connection of one's own to `database` (outside a client's pool).
    public func connectionConfiguration(database: String) -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: "127.0.0.1", port: port, username: "shelf", password: nil, database: database, tls: .disable)
    }

    /// Creates an empty database with a fresh name and returns the name.
    public func createDatabase() async throws -> String {
        let name = "t_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(host: "127.0.0.1", port: port, username: "shelf", password: nil,
                                                            database: "postgres", tls: .disable),
            id: 1, logger: Logger(label: "shelf.tests.postgres")
        )
        do {
            // A database name is an identifier, not a bindable value; this one is made of hex digits only.
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "shelf.tests.postgres"))
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return name
    }

    /// The cluster of this test run (or why there is none), set by `PostgresClusterTrait`.
    @TaskLocal public static var current: Result<PostgresCluster, Unavailable>?
}

/// Starts one PostgreSQL cluster around a suite and stops it when the suite is done.
public struct PostgresClusterTrait: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public init() {}

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        if PostgresCluster.current != nil { return try await function() }
        let started: Result<PostgresCluster, PostgresCluster.Unavailable>
        do {
            started = .success(try await Self.onOwnThread { try PostgresCluster.start() })
        } catch let error as PostgresCluster.Unavailable {
            started = .failure(error)
        } catch {
            started = .failure(PostgresCluster.Unavailable(description: "\(error)"))
        }
        do {
            try await PostgresCluster.$current.withValue(started) { try await function() }
        } catch {
            if case .success(let cluster) = started { await Self.onOwnThread { cluster.stop() } }
            throw error
        }
        if case .success(let cluster) = started { await Self.onOwnThread { cluster.stop() } }
    }

    /// Runs `body` (initdb, pg_ctl: seconds of waiting on child processes) on a thread of its own, so it never holds one of
    /// the few cooperative-pool threads that every other test running in parallel needs.
    public static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    public static func onOwnThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread {
                body()
                continuation.resume()
            }.start()
        }
    }
}

extension Trait where Self == PostgresClusterTrait {
    /// A throwaway PostgreSQL cluster for the suite (see `PostgresCluster`).
    public static var postgresCluster: Self { PostgresClusterTrait() }
}
