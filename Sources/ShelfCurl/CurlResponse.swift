/// One HTTP response, whatever its status (a 4xx or 5xx is a response, not an error).
public struct CurlResponse: Sendable {
    /// HTTP status code of the final response.
    public var status: Int
    /// Headers of the final response in the order received (interim `100 Continue` headers are dropped).
    public var headers: [(name: String, value: String)]
    /// Response body bytes exactly as received (no content decoding is requested).
    public var body: [UInt8]
    /// Time from submission to completion as measured by libcurl (`CURLINFO_TOTAL_TIME_T`).
    public var totalTime: Duration

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], totalTime: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.body = body
        self.totalTime = totalTime
    }

    /// The first header with this name, compared case-insensitively (ASCII).
    public func header(_ name: String) -> String? {
        headers.first(where: { Self.namesMatch($0.name, name) })?.value
    }

    /// Every header with this name, in order, compared case-insensitively (ASCII).
    public func headers(named name: String) -> [String] {
        headers.filter { Self.namesMatch($0.name, name) }.map(\.value)
    }

    /// `Retry-After` as a delay when it is given in seconds (the HTTP-date form is returned as nil).
    public var retryAfter: Duration? {
        guard let value = header("Retry-After"), let seconds = Int(value.trimmingASCIIWhitespace()), seconds >= 0 else {
            return nil
        }
        return .seconds(seconds)
    }

    private static func namesMatch(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count && zip(lhs.utf8, rhs.utf8).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
