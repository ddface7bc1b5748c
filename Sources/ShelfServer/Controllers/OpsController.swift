import Foundation
import Hummingbird
import NIOCore
import ShelfLedger

/// Operations endpoints without tenant data: liveness, readiness and the API contract.
struct OpsController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.get("/healthz") { request, _ in
            try JSONResponder.respond(["status": "ok"], to: request, etag: false)
        }
        routes.get("/livez") { request, _ in
            try JSONResponder.respond(["status": "alive"], to: request, etag: false)
        }
        routes.get("/readyz") { request, _ -> Response in
            guard env.snapshot.isReady else { throw Problem.notReady(env.snapshot.progress) }
            let sellers = env.snapshot.sellerIDs
            let skus = sellers.reduce(0) { $0 + (env.snapshot.seller($1)?.count ?? 0) }
            let quarantined = sellers.reduce(0) { $0 + (env.snapshot.seller($1)?.quarantined.count ?? 0) }
            return try JSONResponder.respond(ReadyView(status: "ready", sellers: sellers.count, skus: skus, quarantined: quarantined), to: request,
                                             etag: false)
        }
        routes.get("/metrics") { request, _ -> Response in
            let bytes = try await env.metrics.render(env: env)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        routes.get("/openapi.yaml") { request, _ -> Response in
            guard let data = OpenAPIDocument.data else { throw Problem(.notFound, detail: "the OpenAPI document is not bundled") }
            return JSONResponder.bytes(data, contentType: "application/yaml", to: request)
        }
        return routes
    }

    struct ReadyView: Encodable {
        var status: String
        var sellers: Int
        var skus: Int
        /// SKUs kept out of the snapshot because their stored rows could not be applied (`GET /v1/quarantine` lists a seller's).
        var quarantined: Int
    }
}

/// The bundled `openapi/shelf.yaml`.
enum OpenAPIDocument {
    static let data: Data? = {
        guard let url = Bundle.module.url(forResource: "shelf", withExtension: "yaml") else { return nil }
        return try? Data(contentsOf: url)
    }()
}
