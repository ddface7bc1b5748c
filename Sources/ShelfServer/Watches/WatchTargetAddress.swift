#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a watch delivery may go: public addresses, and loopback when the policy allows it (a server that itself listens on
/// loopback: development and tests). Private (RFC 1918), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
/// benchmarking, unique-local, multicast, reserved and unspecified addresses are refused, so a seller's watch cannot make
/// Shelf POST into the network it runs in. Checked on the URL at creation and on the connected address at every delivery
/// (`CurlRequest.allowsPeer`), which also covers a host name that resolves somewhere else later.
enum WatchTargetAddress {
    /// What an IP address is, for this purpose.
    enum Kind: Equatable {
        case publicAddress, loopback, nonPublic
    }

    /// The kind of an IPv4 or IPv6 literal (brackets allowed); nil when `text` is not an IP address.
    static func classify(_ text: String) -> Kind? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let a = UInt32(bigEndian: v4.s_addr)
            let (b0, b1, b2) = (a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF)
            if b0 == 127 { return .loopback }
            let nonPublic = b0 == 0 || b0 == 10 || (b0 == 100 && (64...127).contains(b1)) || (b0 == 169 && b1 == 254)
                || (b0 == 172 && (16...31).contains(b1)) || (b0 == 192 && b1 == 168) || (b0 == 192 && b1 == 0 && b2 == 0)
                || (b0 == 198 && (b1 == 18 || b1 == 19)) || b0 >= 224
            return nonPublic ? .nonPublic : .publicAddress
        }
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return nil }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] == 1 ? .loopback : .nonPublic }  // ::1 and ::
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {  // IPv4-mapped: judged as the IPv4 address
            return classify("\(b[12]).\(b[13]).\(b[14]).\(b[15])")
        }
        let nonPublic = b[0] & 0xFE == 0xFC || (b[0] == 0xFE && b[1] & 0xC0 == 0x80) || b[0] == 0xFF
        return nonPublic ? .nonPublic : .publicAddress
    }

    /// The kind of a URL's host: `localhost` names are loopback, IP literals are classified, other names are nil (judged on
    /// the address a delivery connects to).
    static func classify(host: String) -> Kind? {
        let name = host.lowercased()
        return name == "localhost" || name.hasSuffix(".localhost") ? .loopback : classify(name)
    }

    /// True when a delivery may connect to `address`.
    static func allows(_ address: String, loopback: Bool) -> Bool {
        switch classify(address) {
        case .publicAddress: true
        case .loopback: loopback
        case .nonPublic, nil: false
        }
    }
}
