/// A failed call to the MX Platform API.
///
/// The cases are kept private so new ones can be added without breaking callers; use ``kind``
/// to branch and ``description`` (safe as a metric label) to report. An `MXError` never carries
/// MX's response body, credentials or widget URLs.
public struct MXError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, at the granularity a caller acts on.
    public enum Kind: String, Sendable, Equatable {
        /// MX refused our credentials (401) or our calling address / feature set (403).
        case authenticationFailed = "mx_auth_failed"
        /// The object does not exist for this user (404).
        case notFound = "mx_not_found"
        /// An object with these attributes exists, or another job is running (409).
        case conflict = "mx_conflict"
        /// MX rejected the request's content (400, 405, 406, 422).
        case rejected = "mx_rejected"
        /// MX asked us to slow down (429).
        case rateLimited = "mx_rate_limited"
        /// MX answered with a server error (5xx).
        case serverError = "mx_server_error"
        /// MX did not answer within the deadline.
        case timeout = "mx_timeout"
        /// MX could not be reached (connection refused, reset, DNS).
        case unreachable = "mx_unreachable"
        /// MX answered with something we could not read.
        case invalidResponse = "mx_invalid_response"
        /// MX has been failing, so the call was not sent (the circuit is open).
        case circuitOpen = "mx_circuit_open"
    }

    private enum Code: Equatable {
        case status(Int)
        case timeout
        case unreachable
        case invalidResponse
        case circuitOpen
    }

    private let code: Code

    /// Seconds MX asked us to wait before retrying, when it said so.
    public let retryAfterSeconds: Int?

    private init(code: Code, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// An error for an HTTP status MX answered with (not 2xx).
    public static func status(_ status: Int, retryAfterSeconds: Int? = nil) -> MXError {
        MXError(code: .status(status), retryAfterSeconds: retryAfterSeconds)
    }

    /// MX did not answer in time.
    public static let timeout = MXError(code: .timeout)
    /// MX could not be reached.
    public static let unreachable = MXError(code: .unreachable)
    /// MX's answer could not be decoded.
    public static let invalidResponse = MXError(code: .invalidResponse)

    /// The call was not sent because MX has been failing; try again in `retryAfterSeconds`.
    public static func circuitOpen(retryAfterSeconds: Int) -> MXError {
        MXError(code: .circuitOpen, retryAfterSeconds: retryAfterSeconds)
    }

    /// The HTTP status MX answered with, if it answered.
    public var httpStatus: Int? {
        if case .status(let status) = code { return status }
        return nil
    }

    public var kind: Kind {
        switch code {
        case .timeout: .timeout
        case .unreachable: .unreachable
        case .invalidResponse: .invalidResponse
        case .circuitOpen: .circuitOpen
        case .status(let status):
            switch status {
            case 401, 403: .authenticationFailed
            case 404: .notFound
            case 409: .conflict
            case 429: .rateLimited
            case 500...599: .serverError
            default: .rejected
            }
        }
    }

    public var description: String {
        if let httpStatus { return "\(kind.rawValue) (\(httpStatus))" }
        return kind.rawValue
    }
}
