import HTTPTypes
import Hummingbird

/// Per-request state: the request id and, once authenticated, the caller's subject.
public struct BrokerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request id: the client's `X-Request-Id` when usable, else generated.
    public var requestID: String = ""
    /// The app user id (`sub`) of an authenticated caller.
    public var subject: String?
    /// The caller's profile from their token, when the broker reads one (`MX_USER_PROFILE`).
    var profile: UserProfile?
    /// Where authentication notes the caller for the access log.
    var caller: CallerNote?
    /// The name of the backend key the app's own backend called with, on its routes; `nil` for
    /// an app's user calling with their token.
    var backendKeyName: String?

    /// The IP address of the connection's peer (a client, or a proxy in front of the broker).
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The subject of the authenticated caller; only routes behind authentication call this.
    func requireSubject() throws -> String {
        guard let subject else { throw BrokerError.unauthorized(.missingToken, "A bearer token is required.") }
        return subject
    }
}
