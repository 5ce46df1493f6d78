#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A range of IP addresses written `a.b.c.d/n` or `x:y::/n` (a bare address is a range of one).
struct CIDRRange: Sendable, Equatable, CustomStringConvertible {
    private let network: [UInt8]
    private let prefixLength: Int
    let description: String

    /// Parses a range; `nil` when the text is not one.
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = Self.bytes(of: parts[0]) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        network = address
        description = text
    }

    /// Whether `address` (IPv4, IPv6, or IPv4-mapped IPv6) lies in the range.
    func contains(_ address: String) -> Bool {
        guard var candidate = Self.bytes(of: address) else { return false }
        if candidate.count == 16, network.count == 4, candidate.prefix(12) == Self.mappedPrefix[...] {
            candidate = Array(candidate.suffix(4))
        }
        guard candidate.count == network.count else { return false }
        var remaining = prefixLength
        for index in network.indices where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if candidate[index] & mask != network[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    /// The address's bytes: 4 for IPv4, 16 for IPv6.
    static func bytes(of address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
