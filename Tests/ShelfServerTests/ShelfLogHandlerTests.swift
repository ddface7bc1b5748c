import Logging
@testable import ShelfServer
import Synchronization
import Testing

/// `ShelfLogHandler` writes what swift-log's stream handler writes, formatting metadata only for lines it writes.
@Suite("ShelfLogHandler")
struct ShelfLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("lines as the stream handler writes them: level, label, sorted metadata (explicit wins), source, message")
    func format() {
        let out = Lines()
        var logger = Logger(label: "shelf.test") { ShelfLogHandler(label: $0, metadataProvider: nil, write: out.append) }
        logger[metadataKey: "request_id"] = "r1"
        logger[metadataKey: "b"] = "2"
        logger.info("hello", metadata: ["a": "1", "b": "3"])
        logger.debug("not written at info")
        logger.logLevel = .debug
        logger.debug("now written")
        let lines = out.all
        #expect(lines.count == 2)
        let first = lines[0]
        // `<time> info shelf.test: a=1 b=3 request_id=r1 [ShelfServerTests] hello\n`
        #expect(first.hasSuffix(" info shelf.test: a=1 b=3 request_id=r1 [ShelfServerTests] hello\n"), "\(first)")
        #expect(first.prefix(4).allSatisfy(\.isNumber) && first.dropFirst(4).first == "-" && first.dropFirst(10).first == "T", "\(first)")
        #expect(lines[1].hasSuffix(" debug shelf.test: b=2 request_id=r1 [ShelfServerTests] now written\n"), "\(lines[1])")
    }

    @Test("an error's message and type are part of the line; no metadata means no metadata part")
    func errorsAndEmptyMetadata() {
        struct Oops: Error, CustomStringConvertible { var description: String { "it broke" } }
        let out = Lines()
        let logger = Logger(label: "x") { ShelfLogHandler(label: $0, metadataProvider: nil, write: out.append) }
        logger.warning("plain")
        logger.error("failed", error: Oops())
        let lines = out.all
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix(" warning x: [ShelfServerTests] plain\n"), "\(lines[0])")
        #expect(lines[1].contains(" error x: error.message=it broke error.type=ShelfServerTests.ShelfLogHandlerTests"), "\(lines[1])")
    }
}
