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
/// - `SANDBOX_WEBHOOK_URL` (URL, optional): where webhooks go (an embedded sandbox sends them to
///   its broker); `SANDBOX_WEBHOOK_USERNAME` / `SANDBOX_WEBHOOK_PASSWORD` (defaults
///   `sandbox-webhooks` / `sandbox-webhook-password`): their Basic credentials;
///   `SANDBOX_WEBHOOK_RETRY_SCALE` (default 1): shrinks MX's ~24-hour redelivery schedule for tests;
///   `MX_API_VERSION` (default `v20250224`): the integration's API version, which decides the
///   webhooks MX sends it (`initial_data_ready` only to v20250224 integrations).
/// - `SANDBOX_FAULTS` (JSON, optional): faults injected from the start (see ``SandboxFaultRule``).
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
    /// Where webhooks are delivered; `nil` sends none (until a target is bound).
    public var webhookURL: String?
    public var webhookUsername: String
    public var webhookPassword: String
    /// Multiplies every delay of the redelivery schedule (1 = MX's pace).
    public var webhookRetryScale: Double
    /// The API version of the integration the webhooks are for.
    public var webhookAPIVersion: SandboxAPIVersion
    /// Faults injected into API calls from the start.
    public var faults: [SandboxFaultRule]

    /// The documented default credentials of the sandbox API.
    public static let defaultClientID = "sandbox-client-id"
    public static let defaultAPIKey = "sandbox-api-key"
    /// The documented default credentials of the sandbox's webhooks.
    public static let defaultWebhookUsername = "sandbox-webhooks"
    public static let defaultWebhookPassword = "sandbox-webhook-password"

    public init(
        clientID: String = SandboxConfiguration.defaultClientID,
        apiKey: String = SandboxConfiguration.defaultAPIKey,
        connectDelay: Duration = .seconds(3),
        widgetURLLifetime: Duration = .seconds(600),
        stateFile: String? = nil,
        publicBaseURL: String? = nil,
        webhookURL: String? = nil,
        webhookUsername: String = SandboxConfiguration.defaultWebhookUsername,
        webhookPassword: String = SandboxConfiguration.defaultWebhookPassword,
        webhookRetryScale: Double = 1,
        webhookAPIVersion: SandboxAPIVersion = .v20250224,
        faults: [SandboxFaultRule] = []
    ) {
        self.clientID = clientID
        self.apiKey = apiKey
        self.connectDelay = connectDelay
        self.widgetURLLifetime = widgetURLLifetime
        self.stateFile = stateFile
        self.publicBaseURL = publicBaseURL
        self.webhookURL = webhookURL
        self.webhookUsername = webhookUsername
        self.webhookPassword = webhookPassword
        self.webhookRetryScale = webhookRetryScale
        self.webhookAPIVersion = webhookAPIVersion
        self.faults = faults
    }
}
