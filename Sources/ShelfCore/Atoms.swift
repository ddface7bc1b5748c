#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small integer ids for the few strings that many SKUs repeat (location and channel ids, currency codes), held once for the
/// process, so a compact per-SKU record stores a varint instead of a 16-byte string. Append-only: an id, once given, names the
/// same string for the life of the process.
///
/// Every read of a SKU's stock or listings turns ids back into names, on every thread at once, so `name(_:)` takes no lock:
/// names live in fixed chunks that are never moved or freed, and an id is only ever learned after its name was stored (the id
/// travels inside the snapshot, whose publication orders the two). `id(_:)` looks up under a shared read lock and takes the
/// write lock only for a name it has never seen.
public enum Atoms {
    static let chunkBits = 10
    static let chunkSize = 1 << chunkBits
    /// 65,536 chunks of 1,024 names: 64 M distinct names before `id(_:)` answers `overflowID`.
    static let chunkCount = 1 << 16

    /// The id given once every slot is taken; it names the empty string.
    static let overflowID: UInt32 = 0

    /// The chunk table, the name → id map and the lock guarding the map and the count.
    private final class Store: @unchecked Sendable {
        let chunks: UnsafeMutablePointer<UnsafeMutablePointer<String>?>
        let lock: UnsafeMutablePointer<pthread_rwlock_t>
        var ids: [String: UInt32] = [:]
        var count = 0

        init() {
            chunks = .allocate(capacity: Atoms.chunkCount)
            chunks.initialize(repeating: nil, count: Atoms.chunkCount)
            lock = .allocate(capacity: 1)
            lock.initialize(to: pthread_rwlock_t())
            pthread_rwlock_init(lock, nil)
            // Id 0 is the empty string, so `overflowID` names something.
            insert("")
        }

        /// Stores `name` under the next id (the write lock held, or during `init`).
        @discardableResult func insert(_ name: String) -> UInt32 {
            guard count < Atoms.chunkCount * Atoms.chunkSize else { return Atoms.overflowID }
            let id = count
            let chunk = id >> Atoms.chunkBits
            if chunks[chunk] == nil { chunks[chunk] = .allocate(capacity: Atoms.chunkSize) }
            (chunks[chunk]! + (id & (Atoms.chunkSize - 1))).initialize(to: name)
            ids[name] = UInt32(id)
            count += 1
            return UInt32(id)
        }
    }

    private static let store = Store()

    /// The id of `name`, assigned on first use.
    public static func id(_ name: String) -> UInt32 {
        pthread_rwlock_rdlock(store.lock)
        let known = store.ids[name]
        pthread_rwlock_unlock(store.lock)
        if let known { return known }
        pthread_rwlock_wrlock(store.lock)
        defer { pthread_rwlock_unlock(store.lock) }
        return store.ids[name] ?? store.insert(name)
    }

    /// The string an id stands for (ids only come from `id(_:)`); no lock.
    public static func name(_ id: UInt32) -> String {
        let index = Int(id)
        return store.chunks[index >> chunkBits]![index & (chunkSize - 1)]
    }
}
