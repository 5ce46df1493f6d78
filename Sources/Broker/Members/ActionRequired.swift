import MXPlatform

/// What the end user must do about a member, derived from its MX connection status.
public enum ActionRequired: String, Sendable, Codable, CaseIterable {
    /// Nothing: connected, or no credentials to manage.
    case none
    /// Nothing yet: MX or the institution is working (connecting, MFA answer pending, delays).
    case wait
    /// Answer the institution's MFA challenge (widget with `current_member_guid`).
    case answerMFA = "answer_mfa"
    /// Enter credentials again, or restart the connection with the user present.
    case reconnect
    /// Sort something out on the institution's own site (locked account, terms to accept).
    case visitInstitution = "visit_institution"
    /// Nothing the user can fix from here: aggregation fails or is paused on MX's side.
    case contactSupport = "contact_support"
    /// The connection can never work again (institution discontinued, member closed).
    case terminal

    /// The action for MX's `connection_status` text (`nil` for members without credentials).
    public init(connectionStatus: String?) {
        guard let connectionStatus else {
            self = .none
            return
        }
        guard let status = MXConnectionStatus(rawValue: connectionStatus) else {
            self = .wait
            return
        }
        self = Self.forStatus(status)
    }

    static func forStatus(_ status: MXConnectionStatus) -> ActionRequired {
        switch status {
        case .connected: .none
        case .created, .updated, .resumed, .delayed, .pending, .degraded: .wait
        case .challenged: .answerMFA
        case .prevented, .denied, .rejected, .expired, .impaired, .imported, .disconnected, .reconnected: .reconnect
        case .locked, .impeded: .visitInstitution
        case .failed, .disabled: .contactSupport
        case .discontinued, .closed: .terminal
        }
    }

    /// Whether the user has to act (what `connection.action_required` announces).
    public var needsUser: Bool {
        switch self {
        case .answerMFA, .reconnect, .visitInstitution, .contactSupport, .terminal: true
        case .none, .wait: false
        }
    }
}
