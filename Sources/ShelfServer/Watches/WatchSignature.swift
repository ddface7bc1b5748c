import Crypto
import Foundation

/// Signs watch deliveries: `Shelf-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the scheme
/// Stripe and Standard Webhooks use. Receivers recompute the MAC over the raw body, compare in constant time, and reject a
/// timestamp older than `replayWindow` (so a captured delivery cannot be replayed later).
public enum WatchSignature {
    /// The header carrying the timestamp and the signature.
    public static let header = "Shelf-Signature"
    /// The header carrying the delivery id (the same on every attempt of one delivery: receivers deduplicate on it).
    public static let idHeader = "Shelf-Delivery-Id"
    /// The header carrying the event type.
    public static let eventHeader = "Shelf-Event"
    /// How old a signed timestamp a receiver should still accept (seconds).
    public static let replayWindow: TimeInterval = 300

    /// The header value for `body` signed with `secret` at `timestamp` (unix seconds).
    public static func sign(body: [UInt8], secret: String, timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(mac(body: body, secret: secret, timestamp: timestamp))"
    }

    /// Hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with the secret's UTF-8 bytes.
    public static func mac(body: [UInt8], secret: String, timestamp: Int64) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in code {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// True when `header` signs `body` with `secret` and its timestamp is within the replay window of `now`.
    public static func verify(header: String, body: [UInt8], secret: String, now: Date) -> Bool {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= replayWindow else { return false }
        let expected = Array(mac(body: body, secret: secret, timestamp: timestamp).utf8)
        return signatures.contains { candidate in
            let bytes = Array(candidate.utf8)
            guard bytes.count == expected.count else { return false }
            return zip(bytes, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }
}
