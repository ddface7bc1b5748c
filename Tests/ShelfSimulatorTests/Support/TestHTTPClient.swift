import Foundation
import ShelfConnectors

#if canImport(FoundationNetworking)
import FoundationNetworking
import ShelfCore
#endif

/// An HTTP response as tests look at it.
struct TestHTTPResponse: Sendable {
    var status: Int
    /// Lower-cased header names.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> JSONValue { try JSONValue.parse(body) }
}

/// A small URLSession client for talking to the simulator over real HTTP.
struct TestHTTPClient: Sendable {
    private let session: URLSession

    init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration)
    }

    func send(
        _ method: String,
        _ url: String,
        headers: [String: String] = [:],
        body: [UInt8] = [],
        timeout: TimeInterval = 10
    ) async throws -> TestHTTPResponse {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty {
            request.httpBody = Data(body)
            if headers.keys.contains(where: { $0.lowercased() == "content-type" }) == false {
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var lowered: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let name = key as? String, let text = value as? String { lowered[name.lowercased()] = text }
        }
        return TestHTTPResponse(status: http.statusCode, headers: lowered, body: Array(data))
    }
}
