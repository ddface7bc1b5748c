import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 test server on 127.0.0.1 (OS-assigned port) built on POSIX sockets, one thread per connection.
///
/// Behaviour is chosen by path:
/// - `/echo…`: 200, body = request body, `X-Echo-Method` and `X-Echo-Path` headers
/// - `/headers`: 200 with a fixed, awkward set of headers (duplicates, padding, empty value)
/// - `/delay/<ms>`: waits, then 200 `delayed <ms>`
/// - `/status/<code>?retry-after=<s>`: that status, with `Retry-After` when asked
/// - `/large/<n>`: 200 with an n-byte body
/// - `/close-after`: 200 without `Connection: close`, then closes the connection anyway
/// - `/stall`: sends the headers and part of the body, then waits until the client goes away
/// - `/reset`: reads the request, then closes with an RST (SO_LINGER 0)
/// Keep-alive is the default; every accepted and every closed connection is counted.
final class LoopbackHTTPServer: Sendable {
    /// One request as the server parsed it off the wire.
    struct ReceivedRequest: Sendable {
        var method: String
        var path: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
        }
    }

    private struct State {
        var acceptedConnections = 0
        var closedConnections = 0
        var requests: [ReceivedRequest] = []
        var openSockets: Set<Int32> = []
        var stopped = false
    }

    let port: Int
    private let listener: Int32
    private let state = Mutex(State())

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw LoopbackServerError.socket(errno) }
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 1024) == 0 else {
            let code = errno
            close(listener)
            throw LoopbackServerError.socket(code)
        }
        var boundAddress = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &boundAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        self.port = Int(UInt16(bigEndian: boundAddress.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "loopback-http-accept"
        thread.start()
    }

    func url(_ path: String) -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    var acceptedConnectionCount: Int { state.withLock { $0.acceptedConnections } }
    var closedConnectionCount: Int { state.withLock { $0.closedConnections } }
    var receivedRequests: [ReceivedRequest] { state.withLock { $0.requests } }

    /// Stops accepting and shuts down every open connection; handler threads then exit on their own.
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            _ = shutdown(listener, Int32(SHUT_RDWR))
            for socket in state.openSockets {
                _ = shutdown(socket, Int32(SHUT_RDWR))
            }
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                break
            }
            let registered = state.withLock { state in
                guard !state.stopped else { return false }
                state.acceptedConnections += 1
                state.openSockets.insert(connection)
                return true
            }
            guard registered else {
                close(connection)
                break
            }
            let thread = Thread { [self] in
                serve(connection)
                state.withLock { state in
                    state.openSockets.remove(connection)
                    state.closedConnections += 1
                }
                close(connection)
            }
            thread.start()
        }
        close(listener)
    }

    // MARK: Connection handling

    private func serve(_ connection: Int32) {
        var buffer: [UInt8] = []
        while let request = readRequest(connection, buffer: &buffer) {
            state.withLock { $0.requests.append(request) }
            guard respond(to: request, on: connection) else { return }
            if request.header("Connection")?.lowercased() == "close" { return }
        }
    }

    /// Returns false when the connection must not be used any more.
    private func respond(to request: ReceivedRequest, on connection: Int32) -> Bool {
        let pathOnly = String(request.path.split(separator: "?", maxSplits: 1).first ?? "")
        let query = request.path.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let segments = pathOnly.split(separator: "/").map(String.init)
        let isHead = request.method == "HEAD"
        switch segments.first ?? "" {
        case "echo":
            let headers = [("X-Echo-Method", request.method), ("X-Echo-Path", request.path), ("Content-Type", "application/octet-stream")]
            return sendResponse(connection, status: 200, headers: headers, body: request.body, omitBody: isHead)
        case "headers":
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Multi: one\r\nX-Multi: two\r\nX-Spaces:   padded value  \r\nX-Empty:\r\n\r\n"
            return write(connection, Array(head.utf8) + Array("ok".utf8))
        case "delay":
            let milliseconds = Int(segments.dropFirst().first ?? "") ?? 0
            usleep(useconds_t(milliseconds * 1000))
            return sendResponse(connection, status: 200, headers: [], body: Array("delayed \(milliseconds)".utf8), omitBody: isHead)
        case "status":
            let code = Int(segments.dropFirst().first ?? "") ?? 500
            var headers: [(String, String)] = []
            if query.hasPrefix("retry-after=") {
                headers.append(("Retry-After", String(query.dropFirst("retry-after=".count))))
            }
            return sendResponse(connection, status: code, headers: headers, body: Array("status \(code)".utf8), omitBody: isHead)
        case "large":
            let count = Int(segments.dropFirst().first ?? "") ?? 0
            return sendResponse(connection, status: 200, headers: [], body: [UInt8](repeating: UInt8(ascii: "x"), count: count), omitBody: isHead)
        case "close-after":
            // Answers as if keeping the connection alive, then closes it (a server-side idle timeout, compressed).
            _ = sendResponse(connection, status: 200, headers: [], body: Array("closing".utf8), omitBody: isHead)
            return false
        case "stall":
            _ = write(connection, Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial".utf8))
            waitForPeerToClose(connection, atMost: .seconds(5))
            return false
        case "reset":
            var lingerOption = linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &lingerOption, socklen_t(MemoryLayout<linger>.size))
            return false  // the caller closes the socket, which now sends an RST
        default:
            return sendResponse(connection, status: 404, headers: [], body: Array("not found".utf8), omitBody: isHead)
        }
    }

    private func sendResponse(_ connection: Int32, status: Int, headers: [(String, String)], body: [UInt8], omitBody: Bool) -> Bool {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return write(connection, Array(head.utf8) + (omitBody ? [] : body))
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    private func write(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    private func waitForPeerToClose(_ connection: Int32, atMost limit: Duration) {
        let deadline = ContinuousClock.now.advanced(by: limit)
        var scratch = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline && !isStopped {
            var descriptor = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) >= 0 else { return }
            if descriptor.revents != 0 {
                let received = recv(connection, &scratch, scratch.count, 0)
                if received <= 0 { return }
            }
        }
    }

    /// Reads one request (head plus `Content-Length` body); nil when the peer closed or sent garbage.
    private func readRequest(_ connection: Int32, buffer: inout [UInt8]) -> ReceivedRequest? {
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if let range = buffer.firstRange(of: separator) {
                headEnd = range.upperBound
                break
            }
            guard receiveMore(connection, into: &buffer) else { return nil }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[..<(headEnd - separator.count)], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        guard requestLine.count == 3 else { return nil }
        let headers: [(name: String, value: String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var request = ReceivedRequest(method: requestLine[0], path: requestLine[1], headers: headers, body: [])
        let contentLength = Int(request.header("Content-Length") ?? "0") ?? 0
        while buffer.count < headEnd + contentLength {
            guard receiveMore(connection, into: &buffer) else { return nil }
        }
        request.body = Array(buffer[headEnd..<(headEnd + contentLength)])
        buffer.removeFirst(headEnd + contentLength)
        return request
    }

    private func receiveMore(_ connection: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let received = recv(connection, &chunk, chunk.count, 0)
            if received < 0 && errno == EINTR { continue }
            guard received > 0 else { return false }
            buffer.append(contentsOf: chunk[..<received])
            return true
        }
    }
}

/// Setting up the loopback server failed with this `errno`.
enum LoopbackServerError: Error {
    case socket(Int32)
}
