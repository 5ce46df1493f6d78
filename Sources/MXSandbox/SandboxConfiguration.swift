import Foundation

/// How the MX sandbox behaves.
///
/// Read by `connect-broker` from these environment keys:
/// - `SANDBOX_MX_CLIENT_ID` (string, default `sandbox-client-id`) and `SANDBOX_MX_API_KEY`
///   (string, default `sandbox-api-key`): the Basic credentials the simulated API accepts.
/// - `SANDBOX_CONNECT_SECONDS` (number, default 3): how long a new member takes to connect
///   and an aggregation takes to finish.
/// - `SANDBOX_PUBLIC_URL` (URL, optional): the address browsers reach the sandbox at, used in
///   widget URLs; by default the address the API was called at.
public struct SandboxConfiguration: Sendable {
    public var clientID: String
    public var apiKey: String
    /// Time from creating a member (or requesting an aggregation) to its result.
    public var connectDelay: Duration
    /// How long a minted widget URL stays usable (MX: 10 minutes).
    public var widgetURLLifetime: Duration
    /// Where users and members are kept between runs; `nil` keeps them in memory only.
    public var stateFile: String?
    /// The base URL browsers use to reach the sandbox, if not the one the API was called at.
    public var publicBaseURL: String?

    /// The documented default credentials of the sandbox API.
    public static let defaultClientID = "sandbox-client-id"
    public static let defaultAPIKey = "sandbox-api-key"

    public init(
        clientID: String = SandboxConfiguration.defaultClientID,
        apiKey: String = SandboxConfiguration.defaultAPIKey,
        connectDelay: Duration = .seconds(3),
        widgetURLLifetime: Duration = .seconds(600),
        stateFile: String? = nil,
        publicBaseURL: String? = nil
    ) {
        self.clientID = clientID
        self.apiKey = apiKey
        self.connectDelay = connectDelay
        self.widgetURLLifetime = widgetURLLifetime
        self.stateFile = stateFile
        self.publicBaseURL = publicBaseURL
    }
}
