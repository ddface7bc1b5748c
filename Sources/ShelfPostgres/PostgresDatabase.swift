import Foundation
import Logging
import PostgresNIO
import ShelfLedger

/// A `postgres://user[:password]@host[:port]/database` URL (also `postgresql://`), as `shelf --database` takes it.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    /// Why a `postgres://` URL cannot be used, in one sentence.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// True when `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws {
        guard Self.isPostgres(text), let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw Invalid(description: "--database \(text) is not a PostgreSQL URL like postgres://user@127.0.0.1:5432/shelf")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "--database \(text) names no database: end it with /DATABASE, e.g. postgres://user@127.0.0.1:5432/shelf")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "--database \(text) names no user: put it before the host, e.g. postgres://user@127.0.0.1:5432/shelf")
        }
        for item in components.queryItems ?? [] where !(item.name == "sslmode" && item.value == "disable") {
            throw Invalid(description: "--database takes no \(item.name) parameter: only sslmode=disable (shelf connects without TLS)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password
        self.database = database
    }

    /// The URL without its password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// One connection of its own (a listener, a lock holder), outside the client's pool.
    public var connectionConfiguration: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

/// The PostgreSQL server named by `--database` could not be used: unreachable, refusing the login, or without the database.
public struct PostgresUnavailable: Error, CustomStringConvertible {
    public var description: String
}

/// One PostgreSQL database opened for Shelf: a running `PostgresClient`, its schema brought up to this binary's, and every
/// store on it. `close()` stops the client (its connections close).
public final class PostgresDatabase: Sendable {
    public let url: PostgresURL
    public let client: PostgresClient
    public let stores: ShelfStore
    private let runner: Task<Void, Never>

    private init(url: PostgresURL, client: PostgresClient, stores: ShelfStore, runner: Task<Void, Never>) {
        self.url = url
        self.client = client
        self.stores = stores
        self.runner = runner
    }

    /// Connects once to check the server answers (a clear `PostgresUnavailable` when not, instead of a pool retrying) and
    /// runs the migrations on that connection (`PostgresSchema.TooNewError` when the database is ahead of this binary), then
    /// answers the stores on a running client.
    public static func open(_ url: PostgresURL, logger: Logger = Logger(label: "shelf.postgres")) async throws -> PostgresDatabase {
        let client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        do {
            let probe: PostgresConnection
            do {
                probe = try await PostgresConnection.connect(configuration: url.connectionConfiguration, id: 0, logger: logger)
            } catch {
                throw PostgresUnavailable(description: "cannot use the PostgreSQL database \(url): \(reason(error))")
            }
            do {
                try await PostgresSchema.migrate(on: probe, logger: logger)
                try await probe.close()
            } catch let error as PostgresSchema.TooNewError {
                try? await probe.close()
                throw error
            } catch {
                try? await probe.close()
                throw PostgresUnavailable(description: "cannot migrate the PostgreSQL database \(url): \(reason(error))")
            }
            // Migrated already: the factory's own check finds nothing to do.
            let stores = try await ShelfStore.postgres(client, logger: logger)
            return PostgresDatabase(url: url, client: client, stores: stores, runner: runner)
        } catch {
            runner.cancel()
            await runner.value
            throw error
        }
    }

    /// Stops the client; the stores must not be used afterwards.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// What went wrong, in words (PSQLError's own description hides everything on purpose).
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying {
            let text = "\(underlying)"
            if text.contains("Connection refused") { return "connection refused (is PostgreSQL listening there?)" }
            if text.lowercased().contains("timed out") || text.lowercased().contains("timeout") { return "no answer within 5 seconds" }
            return text
        }
        if error.code == .serverClosedConnection || error.code == .connectionError {
            return "no PostgreSQL server answered (unreachable, or not PostgreSQL)"
        }
        return "\(error.code)"
    }
}
