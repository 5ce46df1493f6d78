import Foundation

/// The URLs MX may send a user back to after an OAuth bank's sign-in (`client_redirect_url`):
/// those under one of the operator's prefixes (`ALLOWED_REDIRECT_URL_PREFIXES`), compared as
/// URLs, never as text.
///
/// A URL is under a prefix when its scheme, host (in any case) and port are the prefix's, it has
/// no user info, and its path is the prefix's path or goes on below it at a `/`. Text a browser
/// could read another way is refused outright: backslashes, `%` or `@` in the authority,
/// whitespace and control characters, characters outside ASCII, and `.` or `..` path segments.
/// So `https://app.example.com.evil.net/` and `https://app.example.com@evil.net/` are not under
/// `https://app.example.com`.
public struct RedirectAllowList: Sendable {
    private let prefixes: [WebAddress]

    /// An allow-list of `prefixes`, each an absolute `https` URL (`http` only for a loopback
    /// host) without user info, query or fragment.
    public init(prefixes: [String]) throws(ConfigurationError) {
        self.prefixes = try prefixes.map { text throws(ConfigurationError) in
            guard let address = WebAddress(text), address.query == nil else {
                throw ConfigurationError("ALLOWED_REDIRECT_URL_PREFIXES has an entry that is not an absolute URL without user info or query: \(text)")
            }
            guard address.scheme == "https" || (address.scheme == "http" && address.isLoopback) else {
                throw ConfigurationError("ALLOWED_REDIRECT_URL_PREFIXES entries must be https URLs (http only for a loopback host): \(text)")
            }
            return address
        }
    }

    /// Whether no redirect is allowed at all.
    public var isEmpty: Bool { prefixes.isEmpty }

    /// Refuses `url` with 400 `redirect_not_allowed` unless it is under one of the prefixes.
    func check(_ url: String) throws(BrokerError) {
        guard allows(url) else {
            throw BrokerError.badRequest(
                .redirectNotAllowed,
                "client_redirect_url must be under one of the broker's allowed redirect URLs: the same scheme, host and port, and a path below."
            )
        }
    }

    /// Whether `url` is under one of the prefixes.
    func allows(_ url: String) -> Bool {
        guard let address = WebAddress(url) else { return false }
        return prefixes.contains { prefix in
            prefix.scheme == address.scheme && prefix.host == address.host && prefix.port == address.port
                && address.path.isBelow(prefix.path)
        }
    }
}

/// An absolute `http` or `https` URL split strictly into the parts a redirect check compares;
/// `nil` for anything a browser might read differently.
private struct WebAddress {
    let scheme: String
    /// Lowercased; an IPv6 address keeps its brackets.
    let host: String
    /// The port, or the scheme's default one.
    let port: Int
    /// The path, `/` when empty.
    let path: Substring
    /// What follows `?` or `#`, if anything does.
    let query: Substring?

    init?(_ text: String) {
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }),
            let separator = text.range(of: "://")
        else { return nil }
        scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { return nil }
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains("%") else { return nil }
        let hostText: Substring
        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostText = authority[...close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return nil }
            portText = after.isEmpty ? nil : after.dropFirst()
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            hostText = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !hostText.isEmpty else { return nil }
        host = hostText.lowercased()
        if let portText {
            guard (1...5).contains(portText.count), portText.allSatisfy(\.isASCIIDigit), let number = Int(portText), (1...65535).contains(number)
            else { return nil }
            port = number
        } else {
            port = scheme == "https" ? 443 : 80
        }
        let tail = rest[authorityEnd...]
        let pathEnd = tail.firstIndex { $0 == "?" || $0 == "#" } ?? tail.endIndex
        path = tail[..<pathEnd].isEmpty ? "/" : tail[..<pathEnd]
        query = pathEnd == tail.endIndex ? nil : tail[pathEnd...]
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { [".", ".."].contains($0.lowercased().replacing("%2e", with: ".")) }) else { return nil }
    }

    /// `localhost`, `[::1]` or an IPv4 address in 127.0.0.0/8.
    var isLoopback: Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let isIPv4 = octets.count == 4 && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) && Int($0)! <= 255 }
        return host == "localhost" || host == "[::1]" || (isIPv4 && octets[0] == "127")
    }
}

extension Substring {
    /// Whether this path is `prefix` or goes on below it at a segment boundary (`/oauth` holds
    /// `/oauth` and `/oauth/done`, not `/oauthx`).
    fileprivate func isBelow(_ prefix: Substring) -> Bool {
        guard utf8.starts(with: prefix.utf8) else { return false }
        return prefix.utf8.last == UInt8(ascii: "/") || utf8.count == prefix.utf8.count
            || utf8[utf8.index(utf8.startIndex, offsetBy: prefix.utf8.count)] == UInt8(ascii: "/")
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
