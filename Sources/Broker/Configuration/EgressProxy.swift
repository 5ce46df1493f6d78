import BrokerCore
import Foundation

/// An HTTP proxy that outbound calls to MX go through (MX accepts only registered addresses).
///
/// HTTPS calls are tunnelled with `CONNECT`, so the proxy never sees MX's traffic in clear.
public struct EgressProxy: Sendable {
    public let host: String
    public let port: Int
    /// `user:password` for the proxy's Basic authentication, if it asks for one.
    public let credentials: (username: String, password: Secret)?

    /// Parses `http://[user:password@]host:port`.
    public init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "http",
            let host = components.host, !host.isEmpty, let port = components.port
        else { return nil }
        self.host = host
        self.port = port
        if let user = components.user {
            credentials = (user.removingPercentEncoding ?? user, Secret(components.password?.removingPercentEncoding ?? ""))
        } else {
            credentials = nil
        }
    }
}
