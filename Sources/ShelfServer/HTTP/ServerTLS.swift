import Foundation
import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// Inbound TLS: reads the PEM certificate chain and key of `--tls-cert/--tls-key` and checks them before the server binds, so
/// a missing file, a file that is not PEM, or a key that does not belong to the certificate stops `shelf serve` with a sentence
/// naming the file, never a server that refuses every handshake.
enum ServerTLS {
    /// TLS 1.2 and 1.3, HTTP/1.1 offered by ALPN.
    static func configuration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChainPath)
        } catch {
            throw TLSFileError(description: "cannot read a PEM certificate from \(files.certificateChainPath) (--tls-cert): \(reason(error, path: files.certificateChainPath))")
        }
        guard !chain.isEmpty else {
            throw TLSFileError(description: "\(files.certificateChainPath) (--tls-cert) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
        } catch {
            throw TLSFileError(description: "cannot read a PEM private key from \(files.privateKeyPath) (--tls-key): \(reason(error, path: files.privateKeyPath))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(description: "the key in \(files.privateKeyPath) does not fit the certificate in \(files.certificateChainPath): \(error)")
        }
        return configuration
    }

    private static func reason(_ error: any Error, path: String) -> String {
        FileManager.default.isReadableFile(atPath: path) ? "not valid PEM (\(error))" : "no readable file there"
    }
}

/// A TLS file that cannot serve, worded for the operator (names the file and the flag).
public struct TLSFileError: Error, CustomStringConvertible {
    public let description: String
}

extension TLSFiles {
    /// Reads both files and checks that the key fits the certificate; throws `TLSFileError`.
    public func check() throws {
        _ = try ServerTLS.configuration(self)
    }
}

extension HTTPServerBuilder {
    /// Shelf's HTTP/1.1 server, inside TLS when the configuration names a certificate.
    static func shelf(tls files: TLSFiles?, onEventLoop: Bool) throws -> HTTPServerBuilder {
        guard let files else { return .shelfHTTP1(onEventLoop: onEventLoop) }
        return try .tls(.shelfHTTP1(onEventLoop: onEventLoop), tlsConfiguration: ServerTLS.configuration(files))
    }
}
