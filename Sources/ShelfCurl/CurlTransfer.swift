import CCurl

/// One easy handle and everything its callbacks write into; lives on the curl thread only.
///
/// libcurl's callbacks reach it through `Unmanaged.passUnretained(self)` stored in `CURLOPT_PRIVATE` and the
/// `*DATA` options; the loop's table of active transfers keeps it alive while the handle is in the multi handle.
final class CurlTransfer {
    let ticket: CurlTransferTicket
    let request: CurlRequest
    let easy: UnsafeMutableRawPointer
    private let continuation: CheckedContinuation<CurlResponse, any Error>
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var requestHeaderList: UnsafeMutablePointer<curl_slist>?
    private var uploadOffset = 0
    private var responseHeaders: [(name: String, value: String)] = []
    private var responseBody: [UInt8] = []
    private var responseTooLarge = false
    /// The peer address `request.allowsPeer` refused, if it did.
    private var refusedPeer: String?
    private var isResumed = false

    var id: UInt64 { ticket.id }

    /// Creates and configures the easy handle; on failure the continuation is still unresumed and owned by the caller.
    init(
        request: CurlRequest,
        ticket: CurlTransferTicket,
        continuation: CheckedContinuation<CurlResponse, any Error>
    ) throws(CurlError) {
        guard let easy = curl_easy_init() else {
            throw .curl(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_easy_init failed")
        }
        self.request = request
        self.ticket = ticket
        self.easy = easy
        self.continuation = continuation
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure()
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(requestHeaderList)
        errorBuffer.deallocate()
    }

    /// Resumes the awaiting task exactly once.
    func resume(with result: Result<CurlResponse, any Error>) {
        guard !isResumed else { return }
        isResumed = true
        continuation.resume(with: result)
    }

    /// The outcome of a transfer that libcurl reported done with `code`.
    func outcome(code: CURLcode) -> Result<CurlResponse, any Error> {
        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR && responseTooLarge {
                return .failure(CurlError.responseTooLarge)
            }
            if let refusedPeer {
                return .failure(CurlError.peerRefused(refusedPeer))
            }
            return .failure(CurlError(code: code, detail: errorDetail))
        }
        var status = 0
        _ = shelf_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var totalMicroseconds: curl_off_t = 0
        _ = shelf_curl_easy_getinfo_off_t(easy, CURLINFO_TOTAL_TIME_T, &totalMicroseconds)
        return .success(
            CurlResponse(status: status, headers: responseHeaders, body: responseBody, totalTime: .microseconds(totalMicroseconds))
        )
    }

    /// libcurl's per-transfer error text (more precise than `curl_easy_strerror`), or "".
    var errorDetail: String {
        String(cString: errorBuffer)
    }

    // MARK: Callbacks (called by libcurl on the curl thread, from inside curl_multi_perform)

    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard responseBody.count + bytes.count <= request.maxResponseBodyBytes else {
            responseTooLarge = true
            return 0  // anything other than bytes.count aborts the transfer with CURLE_WRITE_ERROR
        }
        responseBody.append(contentsOf: bytes)
        return bytes.count
    }

    fileprivate func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Int {
        var line = bytes[...]
        while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") { line = line.dropLast() }
        if line.starts(with: Array("HTTP/".utf8)) {
            responseHeaders.removeAll()  // a new response begins (after 1xx interim responses)
        } else if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            if let last = responseHeaders.popLast() {  // obsolete line folding: continuation of the previous value
                let continuation = String(decoding: line, as: UTF8.self).trimmingASCIIWhitespace()
                responseHeaders.append((last.name, last.value + " " + continuation))
            }
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: line[line.index(after: colon)...], as: UTF8.self).trimmingASCIIWhitespace()
            responseHeaders.append((name, value))
        }
        return bytes.count
    }

    fileprivate func sendBody(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, request.body.count - uploadOffset)
        guard count > 0 else { return 0 }
        request.body.withUnsafeBytes { body in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: body[uploadOffset..<uploadOffset + count]))
        }
        uploadOffset += count
        return count
    }

    /// libcurl rewinds the body when it retries a request on a fresh connection after a stale keep-alive one died.
    fileprivate func seekBody(to offset: Int, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0, offset <= request.body.count else { return CURL_SEEKFUNC_CANTSEEK }
        uploadOffset = offset
        return CURL_SEEKFUNC_OK
    }

    // MARK: Configuration

    private func configure() throws(CurlError) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try set(shelf_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, context))
        try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        try set(shelf_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        try set(shelf_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        try set(shelf_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        try set(shelf_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        try set(shelf_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.timeout.wholeMillisecondsAtLeastOne))
        try set(shelf_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.wholeMillisecondsAtLeastOne))

        try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        try set(
            shelf_curl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                guard let context else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
                return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
            }
        )
        try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))
        try set(
            shelf_curl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                guard let context else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
                return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            }
        )
        if request.allowsPeer != nil {
            try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_PREREQDATA, context))
            try set(
                shelf_curl_easy_setopt_prereq_callback(easy) { context, primaryIP, _, _, _ in
                    guard let context, let primaryIP else { return Int32(CURL_PREREQFUNC_ABORT) }
                    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
                    return transfer.admitPeer(String(cString: primaryIP)) ? Int32(CURL_PREREQFUNC_OK) : Int32(CURL_PREREQFUNC_ABORT)
                }
            )
        }
        try configureMethodAndBody(context: context)
        try configureHeaders()
    }

    /// Asks `request.allowsPeer` about the connected address; remembers a refusal for the error.
    private func admitPeer(_ address: String) -> Bool {
        guard let allows = request.allowsPeer, !allows(address) else { return true }
        refusedPeer = address
        return false
    }

    private func configureMethodAndBody(context: UnsafeMutableRawPointer) throws(CurlError) {
        let method = request.method
        if method == "HEAD" && request.body.isEmpty {
            try set(shelf_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        } else if request.sendsBody {
            try set(shelf_curl_easy_setopt_long(easy, CURLOPT_POST, 1))
            try set(shelf_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_READDATA, context))
            try set(
                shelf_curl_easy_setopt_read_callback(easy, CURLOPT_READFUNCTION) { buffer, size, count, context in
                    guard let context, let buffer else { return Int(CURL_READFUNC_ABORT) }
                    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
                    return transfer.sendBody(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
                }
            )
            try set(shelf_curl_easy_setopt_pointer(easy, CURLOPT_SEEKDATA, context))
            try set(
                shelf_curl_easy_setopt_seek_callback(easy, CURLOPT_SEEKFUNCTION) { context, offset, origin in
                    guard let context else { return CURL_SEEKFUNC_FAIL }
                    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
                    return transfer.seekBody(to: Int(offset), origin: origin)
                }
            )
            if method != "POST" {
                try set(shelf_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
            }
        } else if method == "GET" {
            try set(shelf_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        } else {
            try set(shelf_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
        }
    }

    private func configureHeaders() throws(CurlError) {
        var lines = request.headers.map { header in
            // "Name;" is libcurl's spelling for a header sent with an empty value ("Name:" would remove it).
            header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
        }
        let names = Set(request.headers.map { $0.name.lowercased() })
        if !names.contains("expect") {
            lines.append("Expect:")  // never wait for a 100 Continue the server may not send
        }
        if request.sendsBody && !names.contains("content-type") {
            lines.append("Content-Type:")  // suppress libcurl's default application/x-www-form-urlencoded
        }
        for line in lines {
            guard let appended = curl_slist_append(requestHeaderList, line) else {
                throw .curl(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed")
            }
            requestHeaderList = appended
        }
        if let requestHeaderList {
            try set(shelf_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, requestHeaderList))
        }
    }

    private func set(_ code: CURLcode) throws(CurlError) {
        guard code == CURLE_OK else {
            throw .invalidRequest("libcurl rejected an option: \(String(cString: curl_easy_strerror(code)))")
        }
    }
}

extension Duration {
    /// Milliseconds for libcurl's `*_MS` options; 0 would mean "no timeout", so the result is at least 1.
    var wholeMillisecondsAtLeastOne: Int {
        let (seconds, attoseconds) = components
        let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
        guard !milliseconds.overflow else { return Int.max }
        return max(1, Int(milliseconds.partialValue) + Int(attoseconds / 1_000_000_000_000_000))
    }
}
