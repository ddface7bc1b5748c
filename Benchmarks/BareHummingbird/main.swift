// The framework's ceiling for the read benchmark: a bare Hummingbird app (default server, no middleware) that answers
// `GET /offer.json` with the bytes of one file, held in memory, as `application/json`.
// Usage: shelf-bench-bare --port PORT --file PATH [--host 127.0.0.1]
import Foundation
import Hummingbird
import NIOCore

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count else { return nil }
    return args[i + 1]
}

guard let file = option("file"), let data = FileManager.default.contents(atPath: file), let port = option("port").flatMap(Int.init) else {
    FileHandle.standardError.write(Data("usage: shelf-bench-bare --port PORT --file PATH [--host HOST]\n".utf8))
    exit(2)
}
let body = ByteBuffer(bytes: data)
let router = Router()
router.get("/offer.json") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}
let app = Application(router: router, configuration: .init(address: .hostname(option("host") ?? "127.0.0.1", port: port)))
try await app.runService()
