import Synchronization

/// The base URL of the MX API, fixed at start or bound once the server hosting it knows its port.
///
/// An embedded MX sandbox listens on the broker's own port, which is only known after binding
/// (port 0 in tests), so the URL can be bound late, exactly once.
public final class MXBaseURL: Sendable {
    private let state: Mutex<String?>

    /// A base URL known now. A trailing slash is removed.
    public init(_ url: String) {
        state = Mutex(Self.trimmed(url))
    }

    /// A base URL to be bound later with ``bind(_:)``.
    public static func late() -> MXBaseURL { MXBaseURL(unbound: ()) }

    private init(unbound: Void) {
        state = Mutex(nil)
    }

    /// Sets the URL of a late-bound base; later calls replace it (a restarted server).
    public func bind(_ url: String) {
        state.withLock { $0 = Self.trimmed(url) }
    }

    /// The URL, or `nil` while it is not bound yet.
    public var value: String? { state.withLock { $0 } }

    private static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
