import Synchronization

/// Small integer ids for the few strings that many SKUs repeat (channel ids, currency codes), held once for the process, so a
/// compact per-SKU record stores 4 bytes instead of a 16-byte string. Append-only: an id, once given, names the same string
/// for the life of the process.
public enum Atoms {
    private struct Table {
        var ids: [String: UInt32] = [:]
        var names: [String] = []
    }

    private static let table = Mutex(Table())

    /// The id of `name`, assigned on first use.
    public static func id(_ name: String) -> UInt32 {
        table.withLock { t in
            if let id = t.ids[name] { return id }
            let id = UInt32(t.names.count)
            t.names.append(name)
            t.ids[name] = id
            return id
        }
    }

    /// The string an id stands for (ids only come from `id(_:)`).
    public static func name(_ id: UInt32) -> String { table.withLock { $0.names[Int(id)] } }
}
