import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ShelfCore
import ShelfLedger

/// An RFC 9457 problem details document with Shelf's stable `type` URIs and, for validation, the offending field. It is the
/// one error type routes throw: Hummingbird turns it into its response (`HTTPResponseError`), with `Retry-After` on 503 and
/// `WWW-Authenticate` on 401.
public struct Problem: Codable, Hashable, Sendable, HTTPResponseError {
    public var type: String
    public var title: String
    /// The HTTP status code (the document's `status` member).
    public var statusCode: Int
    public var detail: String
    public var field: String?
    /// Extension members (e.g. `available` on insufficient stock).
    public var available: Int?
    public var requested: Int?
    public var error: JSONValue?
    /// How far start-up has come, on `not-ready` problems.
    public var progress: StartupProgress?

    /// SKUs loaded into the snapshot so far, of how many.
    public struct StartupProgress: Codable, Hashable, Sendable {
        public var loaded: Int
        public var total: Int
        public var percent: Int
    }

    /// 503 while the snapshot is being built, with the progress (and `Retry-After: 1` on the response). The percent stays
    /// below 100 until the snapshot is ready (stock, listings and holds are read after the SKU rows).
    public static func notReady(_ progress: RebuildProgress) -> Problem {
        let percent = min(99, progress.percent)
        var p = Problem(.notReady, detail: "starting: the snapshot is being built (\(progress.loaded) of \(progress.total) SKUs, \(percent)%)")
        p.progress = StartupProgress(loaded: progress.loaded, total: progress.total, percent: percent)
        return p
    }

    public static let base = "https://shelf.dev/problems/"

    public init(_ kind: Kind, detail: String, field: String? = nil) {
        type = Self.base + kind.rawValue
        title = kind.title
        statusCode = kind.status
        self.detail = detail
        self.field = field
    }

    /// The stable problem kinds.
    public enum Kind: String, Sendable {
        case unauthorized, forbidden, notFound = "not-found", validation, malformedJSON = "malformed-json"
        case unsupportedMediaType = "unsupported-media-type", payloadTooLarge = "payload-too-large", conflict
        case idempotencyConflict = "idempotency-conflict", insufficientStock = "insufficient-stock", notReady = "not-ready"
        case methodNotAllowed = "method-not-allowed", notAcceptable = "not-acceptable", internalError = "internal", gone
        case badGateway = "bad-gateway"
        case signatureInvalid = "signature-invalid", headersTooLarge = "headers-too-large", uriTooLong = "uri-too-long"
        case badRequest = "bad-request"
        case busy

        var status: Int {
            switch self {
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .validation: 422
            case .malformedJSON: 400
            case .unsupportedMediaType: 415
            case .payloadTooLarge: 413
            case .conflict, .insufficientStock: 409
            case .idempotencyConflict: 422
            case .notReady, .busy: 503
            case .methodNotAllowed: 405
            case .notAcceptable: 406
            case .internalError: 500
            case .gone: 410
            case .badGateway: 502
            case .signatureInvalid: 401
            case .headersTooLarge: 431
            case .uriTooLong: 414
            case .badRequest: 400
            }
        }

        var title: String {
            switch self {
            case .unauthorized: "Missing or invalid bearer token"
            case .forbidden: "The token lacks the required scope"
            case .notFound: "Not found"
            case .validation: "The request is not valid"
            case .malformedJSON: "The body is not valid JSON"
            case .unsupportedMediaType: "Unsupported content type"
            case .payloadTooLarge: "Payload too large"
            case .conflict: "Conflict"
            case .idempotencyConflict: "Idempotency key reused with a different request"
            case .insufficientStock: "Not enough stock"
            case .notReady: "Not ready"
            case .busy: "Busy: other nodes are writing the same seller; retry"
            case .methodNotAllowed: "Method not allowed"
            case .notAcceptable: "Not acceptable"
            case .internalError: "Internal error"
            case .gone: "Gone"
            case .badGateway: "Upstream failure"
            case .signatureInvalid: "The webhook signature does not verify"
            case .headersTooLarge: "Request header fields too large"
            case .uriTooLong: "URI too long"
            case .badRequest: "Malformed HTTP request"
            }
        }
    }

    /// The problem for a ledger refusal or failure.
    public static func from(_ error: LedgerError) -> Problem {
        switch error {
        case .refused(.unknownSKU(let sku)): return Problem(.notFound, detail: "unknown SKU \(sku)", field: "sku")
        case .refused(.unknownLocation(let id)): return Problem(.validation, detail: "unknown location \(id)", field: "location")
        case .refused(.unknownReservation(let id)): return Problem(.notFound, detail: "unknown reservation \(id)", field: "id")
        case .refused(.reservationExpired(let id)): return Problem(.gone, detail: "reservation \(id) has expired", field: "id")
        case .refused(.insufficientStock(let sku, let available, let requested)):
            var p = Problem(.insufficientStock, detail: "\(sku): \(requested) requested, \(available) available", field: "qty")
            p.available = available
            p.requested = requested
            return p
        case .refused(.invalid(let field, let reason)), .refused(.outOfRange(let field, let reason)):
            return Problem(.validation, detail: "\(field) \(reason)", field: field)
        case .idempotencyConflict(let key):
            return Problem(.idempotencyConflict, detail: "Idempotency-Key \(key) was used for a different request", field: "Idempotency-Key")
        case .unknownSeller(let id): return Problem(.notFound, detail: "unknown seller \(id)")
        case .storage(let message): return Problem(.internalError, detail: "the ledger could not record the change: \(message)")
        case .busy(let message): return Problem(.busy, detail: "nothing was recorded, retry: \(message)")
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, title, statusCode = "status", detail, field, available, requested, error, progress
    }

    /// The response status (`HTTPResponseError`).
    public var status: HTTPResponse.Status { .init(code: statusCode) }

    /// The headers the status calls for: `Retry-After` while not ready or unavailable, the bearer challenge on 401.
    public var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if statusCode == 503 { headers[.retryAfter] = "1" }
        if statusCode == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"shelf\"" }
        return headers
    }

    /// The response carrying this problem.
    public func response() -> Response {
        let data = (try? ShelfJSON.encode(self)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `HTTPResponseError`: the problem document as the response.
    public func response(from request: Request, context: some RequestContext) throws -> Response { response() }
}

/// Turns every error escaping a route into problem details; unexpected errors are logged and answered with a 500 problem.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: return Problem(.notFound, detail: "no route for \(request.method) \(request.uri.path)").response()
            case .contentTooLarge: return Problem(.payloadTooLarge, detail: "the body exceeds the limit").response()
            case .methodNotAllowed: return Problem(.methodNotAllowed, detail: "\(request.method) is not allowed on \(request.uri.path)").response()
            default:
                var p = Problem(.validation, detail: error.body ?? error.status.reasonPhrase)
                p.statusCode = Int(error.status.code)
                p.title = error.status.reasonPhrase
                return p.response()
            }
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            return Problem(.internalError, detail: "unexpected error").response()
        }
    }
}
