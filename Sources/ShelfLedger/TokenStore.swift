import Crypto
import Foundation
import GRDB
import ShelfCore
import Synchronization

/// What a bearer token may do.
public enum Scope: String, Codable, Sendable, CaseIterable {
    case read
    case ingest
    case admin
    /// The platform operator's scope (create and list sellers). Only tokens of `TokenInfo.platformSeller` carry it; no seller
    /// token has it, and it grants nothing inside a seller.
    case platform

    /// The scopes a seller's token may carry.
    public static let sellerScopes: [Scope] = [.read, .ingest, .admin]
}

/// A token's record (never its secret): who it belongs to, what it may do, until when.
public struct TokenInfo: Codable, Hashable, Sendable {
    public var id: String
    public var seller: String
    public var scopes: [Scope]
    public var label: String?
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: String, seller: String, scopes: [Scope], label: String? = nil, createdAt: Date, expiresAt: Date? = nil,
                revokedAt: Date? = nil) {
        self.id = id
        self.seller = seller
        self.scopes = scopes
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// True when the token is usable at `instant`.
    public func isValid(at instant: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { instant < $0 } ?? true)
    }

    /// The seller id of platform-operator tokens (not a valid seller id, so it can never name a real tenant).
    public static let platformSeller = "*"

    /// True when the token carries `scope` (admin carries every seller scope; only a platform token carries `platform`).
    public func allows(_ scope: Scope) -> Bool {
        guard seller != Self.platformSeller else { return scope == .platform && scopes.contains(.platform) }
        guard scope != .platform else { return false }
        return scopes.contains(scope) || scopes.contains(.admin)
    }
}

/// Issues, checks and revokes bearer tokens. Tokens are stored as SHA-256 digests (in a `TokenRecordStore`); checks are
/// answered from memory and fall back to one keyed read for a token created by another process (`shelf token create` while
/// the server runs, or another node).
///
/// Unknown tokens are remembered too (a negative cache of their digests, at most `unknownCapacity` of them, each for
/// `unknownTTL` seconds of the store's clock), so the same unknown token sent again and again costs no database read.
/// A token created by another process is therefore accepted at once if it was never presented before it existed, and at the
/// latest `unknownTTL` seconds after it was last refused otherwise. Tokens created or revoked by this store take effect on
/// the very next check.
public final class TokenStore: Sendable {
    /// Where the token records are kept.
    public let records: any TokenRecordStore
    let clock: any WallClock
    /// Known tokens by the SHA-256 digest of their secret.
    private let cache = Mutex<[SHA256Digest: TokenInfo]>([:])
    private let unknown: Mutex<UnknownTokens>
    private let reads = Atomic<Int>(0)

    /// How long an unknown token's digest is remembered (seconds): the longest delay before a token created by another
    /// process is accepted after having been refused.
    public static let defaultUnknownTTL: TimeInterval = 5
    /// How many unknown token digests are remembered at most (the oldest are forgotten first).
    public static let defaultUnknownCapacity = 4096

    public let unknownTTL: TimeInterval
    public let unknownCapacity: Int

    public init(records: any TokenRecordStore, clock: any WallClock, unknownTTL: TimeInterval = TokenStore.defaultUnknownTTL,
                unknownCapacity: Int = TokenStore.defaultUnknownCapacity) {
        self.records = records
        self.clock = clock
        self.unknownTTL = unknownTTL
        self.unknownCapacity = max(0, unknownCapacity)
        self.unknown = Mutex(UnknownTokens())
    }

    /// Tokens kept in the SQLite file `database`.
    public convenience init(database: LedgerDatabase, clock: any WallClock, unknownTTL: TimeInterval = TokenStore.defaultUnknownTTL,
                            unknownCapacity: Int = TokenStore.defaultUnknownCapacity) {
        self.init(records: SQLiteTokenRecordStore(database: database), clock: clock, unknownTTL: unknownTTL, unknownCapacity: unknownCapacity)
    }

    /// How many times `authenticate` has read the database (unknown, uncached tokens only).
    public var databaseReads: Int { reads.load(ordering: .relaxed) }

    /// How many unknown token digests are remembered now (never more than `unknownCapacity`).
    public var unknownCount: Int { unknown.withLock { $0.expiries.count } }

    /// A token that cannot be issued: platform scope on a seller token, seller scopes on a platform token, or no scope.
    public struct ScopeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates a token; returns its record and the secret (shown once). A seller token carries seller scopes only; a platform
    /// token (`seller` = `TokenInfo.platformSeller`) carries `platform` only.
    public func create(seller: String, scopes: [Scope], ttl: TimeInterval?, label: String? = nil) async throws -> (TokenInfo, String) {
        guard !scopes.isEmpty else { throw ScopeError(description: "a token needs at least one scope") }
        if seller == TokenInfo.platformSeller {
            guard scopes.allSatisfy({ $0 == .platform }) else { throw ScopeError(description: "a platform token carries the platform scope only") }
        } else if scopes.contains(.platform) {
            throw ScopeError(description: "the platform scope is for platform-operator tokens only, never a seller's")
        }
        var random = SystemRandomNumberGenerator()
        let id = (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let secretBytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &random) }
        let secret = Data(secretBytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let token = "shelf_\(id)_\(secret)"
        let now = clock.now()
        let info = TokenInfo(
            id: id, seller: seller, scopes: Scope.allCases.filter(scopes.contains), label: label, createdAt: now,
            expiresAt: ttl.map { now.addingTimeInterval($0) }, revokedAt: nil
        )
        try await insert(token, info)
        return (info, token)
    }

    /// Stores the digest of `token` with its record, and forgets that it was unknown.
    func insert(_ token: String, _ info: TokenInfo) async throws {
        let hash = Self.digest(token)
        try await records.insert(info, hash: hash)
        unknown.withLock { $0.remove(hash) }
    }

    /// What memory alone says about a token.
    public enum MemoryAnswer: Sendable {
        /// Known, unrevoked and unexpired now.
        case valid(TokenInfo)
        /// Malformed, remembered as unknown, revoked or expired.
        case refused
        /// Not in memory: only the database can tell (`authenticate` reads it).
        case unknown
    }

    /// The answer for `token` from memory only, never touching the database (the hot path: no blocking work).
    public func authenticateFromMemory(_ token: String) -> MemoryAnswer {
        guard token.hasPrefix("shelf_"), token.utf8.count < 200 else { return .refused }
        let digest = SHA256.hash(data: Array(token.utf8))
        let now = clock.now()
        if let cached = cache.withLock({ $0[digest] }) { return cached.isValid(at: now) ? .valid(cached) : .refused }
        return unknown.withLock({ $0.contains(Self.hex(digest), at: now) }) ? .refused : .unknown
    }

    /// The token's record if it is known, unrevoked and unexpired now. A store that cannot be read refuses the token (and
    /// does not remember it as unknown).
    public func authenticate(_ token: String) async -> TokenInfo? {
        switch authenticateFromMemory(token) {
        case .valid(let info): return info
        case .refused: return nil
        case .unknown: break
        }
        let digest = SHA256.hash(data: Array(token.utf8))
        let hash = Self.hex(digest)
        reads.add(1, ordering: .relaxed)
        let found: TokenInfo?
        do {
            found = try await records.token(hash: hash)
        } catch {
            return nil
        }
        let now = clock.now()
        guard let info = found else {
            let (ttl, capacity) = (unknownTTL, unknownCapacity)
            unknown.withLock { $0.insert(hash, until: now.addingTimeInterval(ttl), capacity: capacity, now: now) }
            return nil
        }
        cache.withLock { $0[digest] = info }
        return info.isValid(at: now) ? info : nil
    }

    /// Every token of `seller` (records only).
    public func list(seller: String) async throws -> [TokenInfo] {
        try await records.tokens(seller: seller)
    }

    /// Revokes the token at once; false when `seller` has no such token.
    public func revoke(id: String, seller: String) async throws -> Bool {
        let now = clock.now()
        let changed = try await records.revoke(id: id, seller: seller, at: now)
        if changed {
            cache.withLock { cache in
                for (hash, info) in cache where info.id == id { cache[hash]?.revokedAt = now }
            }
        }
        return changed
    }

    /// Forgets what is cached about `seller`'s tokens (every seller's with nil), and every unknown token: another node
    /// created or revoked one, so the next check of each reads the store again.
    public func forget(seller: String?) {
        cache.withLock { cache in
            if let seller { cache = cache.filter { $0.value.seller != seller } } else { cache.removeAll() }
        }
        unknown.withLock { $0 = UnknownTokens() }
    }

    static func digest(_ token: String) -> String { hex(SHA256.hash(data: Array(token.utf8))) }

    static func hex(_ digest: SHA256Digest) -> String { Array(digest).hexString }
}

/// The embedded conformance of `TokenRecordStore`: the `tokens` table of the SQLite file, through GRDB's async API (its own
/// queue, never a cooperative-pool thread).
public struct SQLiteTokenRecordStore: TokenRecordStore {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func insert(_ info: TokenInfo, hash: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (id, seller, hash, scopes, label, createdAt, expiresAt, revokedAt) VALUES (?,?,?,?,?,?,?,?)",
                arguments: [
                    info.id, info.seller, hash, info.storedScopes, info.label,
                    info.createdAt.timeIntervalSince1970, info.expiresAt?.timeIntervalSince1970, info.revokedAt?.timeIntervalSince1970,
                ]
            )
        }
    }

    public func token(hash: String) async throws -> TokenInfo? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, seller, scopes, label, createdAt, expiresAt, revokedAt FROM tokens WHERE hash = ?", arguments: [hash]
            ).map(Self.info)
        }
    }

    public func tokens(seller: String) async throws -> [TokenInfo] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, seller, scopes, label, createdAt, expiresAt, revokedAt FROM tokens WHERE seller = ? ORDER BY createdAt, id",
                arguments: [seller]
            ).map(Self.info)
        }
    }

    public func revoke(id: String, seller: String, at instant: Date) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE tokens SET revokedAt = COALESCE(revokedAt, ?) WHERE id = ? AND seller = ?",
                arguments: [instant.timeIntervalSince1970, id, seller]
            )
            return db.changesCount > 0
        }
    }

    static func info(_ row: Row) -> TokenInfo {
        TokenInfo(
            id: row[0], seller: row[1], scopes: TokenInfo.scopes(row[2]), label: row[3], createdAt: Date(timeIntervalSince1970: row[4]),
            expiresAt: (row[5] as Double?).map(Date.init(timeIntervalSince1970:)), revokedAt: (row[6] as Double?).map(Date.init(timeIntervalSince1970:))
        )
    }
}

extension TokenInfo {
    /// The scopes of a stored comma-separated list (unknown names are skipped); how every store keeps them.
    public static func scopes(_ stored: String) -> [Scope] {
        stored.split(separator: ",").compactMap { Scope(rawValue: String($0)) }
    }

    /// The comma-separated list a store keeps the scopes as.
    public var storedScopes: String { scopes.map(\.rawValue).joined(separator: ",") }
}

/// Digests of unknown tokens with the instant each stops being remembered, oldest first; bounded by the caller's capacity.
struct UnknownTokens {
    var expiries: [String: Date] = [:]
    /// Insertion order (digests may repeat after re-insertion; stale ones are skipped); `head` is the oldest live slot.
    var order: [String] = []
    var head = 0

    func contains(_ hash: String, at now: Date) -> Bool {
        guard let until = expiries[hash] else { return false }
        return now < until
    }

    mutating func insert(_ hash: String, until: Date, capacity: Int, now: Date) {
        guard capacity > 0 else { return }
        // Forget the expired and, beyond capacity, the oldest.
        while head < order.count {
            let oldest = order[head]
            guard let expiry = expiries[oldest] else { head += 1; continue }
            if expiry <= now || expiries.count >= capacity && expiries[hash] == nil {
                expiries[oldest] = nil
                head += 1
            } else {
                break
            }
        }
        if expiries.updateValue(until, forKey: hash) != nil {
            // Re-inserted: move it to the back so the order stays oldest first.
            if let i = order[head...].firstIndex(of: hash) { order.remove(at: i) }
        }
        order.append(hash)
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    mutating func remove(_ hash: String) {
        if expiries.removeValue(forKey: hash) != nil, let i = order[head...].firstIndex(of: hash) { order.remove(at: i) }
    }
}
