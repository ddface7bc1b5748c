import CCurl

/// `curl_global_init` exactly once per process, before the first multi handle is created.
enum CurlGlobalInitialization {
    /// A global `let` is initialized lazily and exactly once (thread-safe, via `swift_once`).
    private static let result: CURLcode = shelf_curl_global_init_all()

    /// Performs the one-time initialization if needed; returns libcurl's result code.
    static func ensure() -> CURLcode {
        result
    }
}
