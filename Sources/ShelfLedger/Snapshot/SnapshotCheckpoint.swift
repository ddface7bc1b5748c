import Crypto
import Foundation
import ShelfCore

/// A snapshot checkpoint file: a compact binary image of the snapshot (every seller's catalog, last sequence and SKU states)
/// that a restart loads instead of reading every state row, then catches up from the ledger's events after it.
///
/// Layout: a 56-byte header — the magic `SHELFSNP`, the format version (UInt32, little-endian), 4 reserved bytes, the payload
/// length (UInt64) and the SHA-256 of the payload — then the payload: the number of sellers and of SKUs, then per seller its id, last sequence and when it was
/// recorded, the SHA-256 of the event at that sequence (so a checkpoint of another database, or of one rolled back, is
/// refused), the catalog (JSON) and its SKUs (`CheckpointWriter`). Written to a temporary file, synced and renamed over the
/// old one, so a reader never sees half a checkpoint.
public enum SnapshotCheckpoint {
    static let magic: [UInt8] = Array("SHELFSNP".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 56

    /// One seller as the checkpoint holds it.
    struct Seller: Sendable {
        var id: String
        var lastSequence: Int64
        var lastRecordedAt: Date?
        /// `eventDigest` of the event at `lastSequence`.
        var lastEvent: [UInt8]
        var catalog: SellerCatalog
        var shards: [SKUTable]
        var count: Int
    }

    /// What a seller is written from: a consistent view taken from its snapshot (see `SellerSnapshot.checkpointView`).
    struct SellerView: Sendable {
        var id: String
        var lastSequence: Int64
        var lastRecordedAt: Date?
        var lastEvent: [UInt8]
        var catalog: SellerCatalog
        var shards: [ContiguousArray<SKUState>]
        var count: Int { shards.reduce(0) { $0 + $1.count } }
    }

    /// The SHA-256 of what identifies a recorded event: seller, sequence, source, external id, when it was recorded and its body.
    static func eventDigest(_ e: LedgerEvent) throws -> [UInt8] {
        var hash = SHA256()
        let body = try FastJSON.event(e.event) ?? String(decoding: ShelfJSON.encoder().encode(e.event), as: UTF8.self)
        var w = CheckpointWriter()
        w.text(e.seller)
        w.int(e.sequence)
        w.text(e.source)
        w.optional(e.externalId) { $0.text($1) }
        w.date(e.recordedAt)
        w.text(body)
        hash.update(data: w.bytes)
        return Array(hash.finalize())
    }

    /// Writes `sellers` to `path` atomically (a temporary file beside it, synced, then renamed); answers the bytes written.
    static func write(_ sellers: [SellerView], to path: String, progress: ((Int) -> Void)? = nil) throws -> Int {
        // One name, so a write cut short (a kill) leaves nothing behind that the next one does not overwrite.
        let temporary = path + ".tmp"
        guard let file = fopen(temporary, "wb") else { throw SnapshotCheckpointError.io("cannot create \(temporary): \(errno)") }
        var closed = false
        defer {
            if !closed { fclose(file) }
            unlink(temporary)
        }
        func put(_ bytes: [UInt8]) throws {
            guard bytes.isEmpty || fwrite(bytes, 1, bytes.count, file) == bytes.count else {
                throw SnapshotCheckpointError.io("cannot write \(temporary): \(errno)")
            }
        }
        try put([UInt8](repeating: 0, count: headerSize))
        var hash = SHA256()
        var length = 0
        var w = CheckpointWriter()
        func flush(force: Bool) throws {
            guard force || w.bytes.count >= 1 << 20 else { return }
            hash.update(data: w.bytes)
            length += w.bytes.count
            try put(w.bytes)
            w.bytes.removeAll(keepingCapacity: true)
        }
        let catalogs = ShelfJSON.encoder()
        w.uint(UInt64(sellers.count))
        w.uint(UInt64(sellers.reduce(0) { $0 + $1.count }))
        for seller in sellers {
            w.text(seller.id)
            w.int(seller.lastSequence)
            w.optional(seller.lastRecordedAt) { $0.date($1) }
            w.raw(seller.lastEvent)
            w.raw(Array(try catalogs.encode(seller.catalog)))
            w.uint(UInt64(seller.count))
            var written = 0
            for shard in seller.shards {
                for state in shard {
                    w.state(state)
                    written += 1
                    if written & 4095 == 0 {
                        progress?(4096)
                        try flush(force: false)
                    }
                }
            }
            progress?(written & 4095)
        }
        try flush(force: true)
        var header = magic
        withUnsafeBytes(of: formatVersion.littleEndian) { header += $0 }
        header += [0, 0, 0, 0]
        withUnsafeBytes(of: UInt64(length).littleEndian) { header += $0 }
        header += Array(hash.finalize())
        guard fseek(file, 0, SEEK_SET) == 0 else { throw SnapshotCheckpointError.io("cannot seek in \(temporary): \(errno)") }
        try put(header)
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else { throw SnapshotCheckpointError.io("cannot sync \(temporary): \(errno)") }
        closed = true
        guard fclose(file) == 0 else { throw SnapshotCheckpointError.io("cannot close \(temporary): \(errno)") }
        guard rename(temporary, path) == 0 else { throw SnapshotCheckpointError.io("cannot rename \(temporary) to \(path): \(errno)") }
        // The rename itself is durable once the directory is synced.
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return headerSize + length
    }

    /// Reads and checks the checkpoint at `path`: its header, length and checksum, then every seller. `progress` is told the
    /// SKU total once it is known and each batch of SKUs read; `stopped` is asked every few thousand SKUs (it throws to stop).
    static func read(_ path: String, begin: (Int) -> Void = { _ in }, advance: (Int) -> Void = { _ in },
                     stopped: () throws -> Void = {}) throws -> [Seller] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw SnapshotCheckpointError.io("cannot read \(path): \(error)")
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Seller] in
            guard raw.count >= headerSize else { throw SnapshotCheckpointError.truncated(expected: headerSize, found: raw.count) }
            guard Array(raw[0..<8]) == magic else { throw SnapshotCheckpointError.badMagic }
            func little<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
                var v: T = 0
                for i in 0..<MemoryLayout<T>.size { v |= T(raw[at + i]) << (8 * i) }
                return v
            }
            let version = little(8, UInt32.self)
            guard version == formatVersion else { throw SnapshotCheckpointError.unknownVersion(version) }
            let length = little(16, UInt64.self)
            let found = raw.count - headerSize
            guard length == UInt64(found) else { throw SnapshotCheckpointError.truncated(expected: Int(clamping: length) + headerSize, found: raw.count) }
            let payload = UnsafeRawBufferPointer(rebasing: raw[headerSize...])
            guard Array(SHA256.hash(data: payload)) == Array(raw[24..<56]) else { throw SnapshotCheckpointError.checksumMismatch }
            var r = CheckpointReader(raw, from: headerSize, to: raw.count)
            let decoder = ShelfJSON.decoder()
            var sellers: [Seller] = []
            let sellerCount = try r.count(minimum: 44)
            let total = try r.count(minimum: 20)
            begin(total)
            var read = 0
            for _ in 0..<sellerCount {
                try stopped()
                let id = try r.text()
                let lastSequence = try r.int64()
                let lastRecordedAt = try r.optional { try $0.date() }
                let lastEvent = try r.bytes()
                let catalog: SellerCatalog
                do {
                    catalog = try decoder.decode(SellerCatalog.self, from: Data(try r.bytes()))
                } catch let error as SnapshotCheckpointError {
                    throw error
                } catch {
                    throw SnapshotCheckpointError.malformed("the catalog of seller \(id) cannot be read: \(error)")
                }
                let count = try r.count(minimum: 20)
                read += count
                guard read <= total else { throw r.malformed("more SKUs than the \(total) announced") }
                var shards = (0..<SellerSnapshot.shardCount).map { _ in SKUTable(capacity: count / SellerSnapshot.shardCount + 16) }
                for n in 0..<count {
                    if n & 4095 == 4095 {
                        advance(4096)
                        try stopped()
                    }
                    let state = try r.state()
                    guard shards[SellerSnapshot.shardIndex(state.sku)].exchange(state) == nil else {
                        throw SnapshotCheckpointError.malformed("SKU \(state.sku) appears twice")
                    }
                }
                advance(count % 4096)
                sellers.append(Seller(id: id, lastSequence: lastSequence, lastRecordedAt: lastRecordedAt, lastEvent: lastEvent,
                                      catalog: catalog, shards: shards, count: count))
            }
            guard r.atEnd, read == total else { throw r.malformed("bytes after the last seller, or fewer SKUs than announced") }
            return sellers
        }
    }
}

/// Why a checkpoint file was not used.
public enum SnapshotCheckpointError: Error, CustomStringConvertible, Equatable {
    case missing
    case io(String)
    case truncated(expected: Int, found: Int)
    case badMagic
    case unknownVersion(UInt32)
    case checksumMismatch
    case malformed(String)
    /// It does not describe this database as it is (another database, a rolled-back one, or rows changed outside the ledger).
    case stale(String)

    public var description: String {
        switch self {
        case .missing: "there is none"
        case .io(let what): what
        case .truncated(let expected, let found): "it is truncated (\(found) bytes, the header promises \(expected))"
        case .badMagic: "it is not a snapshot checkpoint (wrong magic)"
        case .unknownVersion(let v): "its format version \(v) is not one this build reads (\(SnapshotCheckpoint.formatVersion))"
        case .checksumMismatch: "its checksum does not match its contents (damaged)"
        case .malformed(let what): "it cannot be read: \(what)"
        case .stale(let why): "it is stale: \(why)"
        }
    }
}
