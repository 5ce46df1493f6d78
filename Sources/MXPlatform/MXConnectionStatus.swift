/// MX's connection statuses of a member, with the numeric ids MX uses in webhooks
/// (`connection_status_id`) and in the widget's `memberStatusUpdate` event.
public enum MXConnectionStatus: String, Sendable, CaseIterable {
    case created = "CREATED"
    case prevented = "PREVENTED"
    case denied = "DENIED"
    case challenged = "CHALLENGED"
    case rejected = "REJECTED"
    case locked = "LOCKED"
    case connected = "CONNECTED"
    case impeded = "IMPEDED"
    case reconnected = "RECONNECTED"
    case degraded = "DEGRADED"
    case disconnected = "DISCONNECTED"
    case discontinued = "DISCONTINUED"
    case closed = "CLOSED"
    case delayed = "DELAYED"
    case failed = "FAILED"
    case updated = "UPDATED"
    case disabled = "DISABLED"
    case imported = "IMPORTED"
    case resumed = "RESUMED"
    case expired = "EXPIRED"
    case impaired = "IMPAIRED"
    case pending = "PENDING"

    /// MX's numeric id of the status (0 `CREATED` … 21 `PENDING`).
    public var id: Int {
        Self.allCases.firstIndex(of: self)!
    }

    /// The status with MX's numeric `id`.
    public init?(id: Int) {
        guard Self.allCases.indices.contains(id) else { return nil }
        self = Self.allCases[id]
    }
}
