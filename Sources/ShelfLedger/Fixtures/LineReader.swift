import Foundation

/// Reads a file line by line in large chunks (so a million-line catalog never sits in memory at once).
public struct LineReader: Sequence {
    public let url: URL

    public init(url: URL) { self.url = url }

    public func makeIterator() -> Iterator { Iterator(handle: try? FileHandle(forReadingFrom: url)) }

    /// Yields each line without its newline.
    public struct Iterator: IteratorProtocol {
        let handle: FileHandle?
        var buffer = Data()
        var offset = 0
        var finished = false

        init(handle: FileHandle?) {
            self.handle = handle
            finished = handle == nil
        }

        public mutating func next() -> String? {
            while true {
                if let newline = buffer[offset...].firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[offset..<newline], as: UTF8.self)
                    offset = newline + 1
                    return line
                }
                if finished {
                    guard offset < buffer.count else { return nil }
                    let line = String(decoding: buffer[offset...], as: UTF8.self)
                    offset = buffer.count
                    return line
                }
                let chunk = (try? handle?.read(upToCount: 1 << 20)) ?? nil
                buffer = Data(buffer[offset...])
                offset = 0
                if let chunk, !chunk.isEmpty {
                    buffer.append(chunk)
                } else {
                    finished = true
                    try? handle?.close()
                }
            }
        }
    }
}
