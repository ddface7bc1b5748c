import CCurl

/// Why a transfer produced no response.
public enum CurlError: Error, Sendable, Equatable {
    /// The request's total `timeout` (or its `connectTimeout`) elapsed (`CURLE_OPERATION_TIMEDOUT`).
    case timeout
    /// The TCP connection could not be established, e.g. connection refused (`CURLE_COULDNT_CONNECT`).
    case couldNotConnect
    /// The host name did not resolve (`CURLE_COULDNT_RESOLVE_HOST`).
    case couldNotResolveHost
    /// The connection broke mid-exchange: reset, send/receive failure, empty or truncated reply.
    case connectionLost
    /// The response body exceeded the request's `maxResponseBodyBytes`.
    case responseTooLarge
    /// The client is shut down (or its shutdown grace period expired while the transfer was in flight).
    case shutdown
    /// The request was rejected before being sent; the message says why.
    case invalidRequest(String)
    /// The request's `allowsPeer` refused the address the connection went to; nothing was sent.
    case peerRefused(String)
    /// Any other libcurl failure: the `CURLcode` and its `curl_easy_strerror` text.
    case curl(code: Int, message: String)

    /// Whether retrying the same request later can reasonably succeed (transport-level, transient failures).
    public var isTransient: Bool {
        switch self {
        case .timeout, .couldNotConnect, .couldNotResolveHost, .connectionLost: true
        case .responseTooLarge, .shutdown, .invalidRequest, .peerRefused, .curl: false
        }
    }
}

extension CurlError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .timeout: "HTTP request timed out"
        case .couldNotConnect: "could not connect to the HTTP server"
        case .couldNotResolveHost: "could not resolve the HTTP server's host name"
        case .connectionLost: "the HTTP connection was lost (reset, send/receive failure or truncated reply)"
        case .responseTooLarge: "the HTTP response body exceeded the allowed size"
        case .shutdown: "the HTTP client is shut down"
        case .invalidRequest(let reason): "invalid HTTP request: \(reason)"
        case .peerRefused(let address): "refused to send to \(address): not an allowed address"
        case .curl(let code, let message): "libcurl error \(code): \(message)"
        }
    }
}

extension CurlError {
    /// Maps a failed transfer's code; `detail` is libcurl's per-transfer error buffer text, when it has one.
    init(code: CURLcode, detail: String) {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            self = .timeout
        case CURLE_COULDNT_CONNECT:
            self = .couldNotConnect
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            self = .couldNotResolveHost
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            self = .connectionLost
        default:
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            self = .curl(code: Int(code.rawValue), message: message)
        }
    }
}
