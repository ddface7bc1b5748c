/// One outbound HTTP request.
public struct CurlRequest: Sendable {
    /// HTTP method, sent as is (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, …).
    public var method: String
    /// Absolute `http://` or `https://` URL.
    public var url: String
    /// Request headers in the order they are sent. A `Content-Type` is never invented, `Expect: 100-continue` is never added.
    public var headers: [(name: String, value: String)]
    /// Request body; sent with a `Content-Length` when non-empty or when the method is POST, PUT or PATCH.
    public var body: [UInt8]
    /// Total time allowed for the transfer, including waiting for a free connection, connecting and reading the body.
    public var timeout: Duration
    /// Time allowed for the TCP (and TLS) connect phase.
    public var connectTimeout: Duration
    /// Largest response body accepted; a larger body fails the transfer with `CurlError.responseTooLarge`.
    public var maxResponseBodyBytes: Int
    /// Asked with the peer's IP address (as libcurl prints it) once the connection is made or reused and before anything is
    /// sent; false fails the transfer with `CurlError.peerRefused`. Checking the connected address, not the host name,
    /// also covers a name that resolves somewhere else by the time of the request (DNS rebinding).
    public var allowsPeer: (@Sendable (String) -> Bool)?

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        timeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(2),
        maxResponseBodyBytes: Int = 32 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }

    /// Rejects requests that would be sent malformed (header injection, empty method, non-positive timeouts).
    func validate() throws(CurlError) {
        if method.isEmpty || method.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            throw .invalidRequest("method \(method.debugDescription) is not an HTTP token")
        }
        if url.isEmpty || url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw .invalidRequest("url \(url.debugDescription) is empty or contains whitespace or control characters")
        }
        for header in headers {
            if header.name.isEmpty || header.name.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ":") }) {
                throw .invalidRequest("header name \(header.name.debugDescription) is not an HTTP token")
            }
            if header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                throw .invalidRequest("value of header \(header.name) contains CR, LF or NUL")
            }
        }
        if timeout <= .zero || connectTimeout <= .zero {
            throw .invalidRequest("timeout and connectTimeout must be positive")
        }
        if maxResponseBodyBytes < 0 {
            throw .invalidRequest("maxResponseBodyBytes must not be negative")
        }
    }

    /// Whether the method carries a body even when `body` is empty (so `Content-Length: 0` is sent).
    var sendsBody: Bool {
        !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method.uppercased())
    }
}
