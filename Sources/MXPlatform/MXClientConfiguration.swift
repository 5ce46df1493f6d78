import BrokerCore
import Foundation

/// Where the MX Platform API lives.
public enum MXEnvironment: String, Sendable, CaseIterable {
    /// `https://api.mx.com`
    case production
    /// `https://int-api.mx.com`, MX's integration (test) environment.
    case integration

    /// The API's base URL in this environment.
    public var baseURL: String {
        switch self {
        case .production: "https://api.mx.com"
        case .integration: "https://int-api.mx.com"
        }
    }
}

/// How the broker reaches MX.
///
/// Built by the broker's configuration from these environment keys:
/// - `MX_BASE_URL` (string, optional): overrides the environment's base URL (e.g. a standalone sandbox).
/// - `MX_ENVIRONMENT` (`production` | `integration`, default `integration`).
/// - `MX_CLIENT_ID` (string), `MX_API_KEY` or `MX_API_KEY_FILE` (string, secret).
/// - `MX_API_VERSION` (`v20250224` default | `v20111101`).
/// - `MX_TIMEOUT_SECONDS` (number, default 15): deadline for one call.
public struct MXClientConfiguration: Sendable {
    /// Base URL without a trailing slash, e.g. `https://int-api.mx.com` or `http://127.0.0.1:8080/sandbox/mx`.
    public var baseURL: MXBaseURL
    public var clientID: String
    public var apiKey: Secret
    public var apiVersion: MXAPIVersion
    public var timeout: Duration
    /// Retries, concurrency limit and circuit breaker.
    public var resilience: MXResilience

    public init(
        baseURL: MXBaseURL,
        clientID: String,
        apiKey: Secret,
        apiVersion: MXAPIVersion = .v20250224,
        timeout: Duration = .seconds(15),
        resilience: MXResilience = MXResilience()
    ) {
        self.baseURL = baseURL
        self.clientID = clientID
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.timeout = timeout
        self.resilience = resilience
    }
}
