import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// The seller console: static assets only (HTML, CSS, JavaScript modules) bundled into the binary. The routes need no token;
/// every datum the page shows comes from the API with the seller's token, which the page keeps in `sessionStorage`.
struct ConsoleController: Sendable {
    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.get("/console", use: index)
        routes.get("/console/:asset", use: asset)
        return routes
    }

    /// A strict policy: nothing inline, nothing from another origin, no framing, no plugins.
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        return headers
    }

    @Sendable func index(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        try serve("index.html", request)
    }

    @Sendable func asset(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        try serve(try context.pathParameter("asset"), request)
    }

    func serve(_ name: String, _ request: Request) throws -> Response {
        guard let file = ConsoleAssets.files[name] else {
            throw Problem(.notFound, detail: "the console has no asset \(name)", field: "asset")
        }
        return JSONResponder.bytes(file.data, contentType: file.contentType, to: request, headers: Self.securityHeaders)
    }
}

/// The console's files, read once from the bundle (`Resources/console`), by file name.
enum ConsoleAssets {
    struct File: Sendable {
        var data: Data
        var contentType: String
    }

    static let types = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
    ]

    static let files: [String: File] = {
        guard let dir = Bundle.module.url(forResource: "console", withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [:] }
        var files: [String: File] = [:]
        for name in names {
            let ext = (name as NSString).pathExtension.lowercased()
            guard let type = types[ext], let data = try? Data(contentsOf: dir.appendingPathComponent(name)) else { continue }
            files[name] = File(data: data, contentType: type)
        }
        return files
    }()
}
