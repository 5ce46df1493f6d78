/// Every `error.code` the broker answers with: stable snake_case for programs to branch on.
///
/// The error table in docs/api.md and the OpenAPI document's `Error.code` enumeration are tested to
/// list exactly these.
public enum ErrorCode: String, CaseIterable, Sendable, Encodable {
    // Requests the broker cannot read.
    case malformedRequest = "malformed_request"
    case unsupportedTransferEncoding = "unsupported_transfer_encoding"
    case headersTooLarge = "headers_too_large"
    case bodyTooLarge = "body_too_large"
    case unsupportedMediaType = "unsupported_media_type"
    case methodNotAllowed = "method_not_allowed"
    case badRequest = "bad_request"
    case malformedJSON = "malformed_json"
    case emptyBody = "empty_body"
    case invalidBody = "invalid_body"

    // Fields the broker checks.
    case invalidWidgetURLField = "invalid_widget_url_field"
    case redirectNotAllowed = "redirect_not_allowed"
    case invalidAcceptLanguage = "invalid_accept_language"
    case invalidPage = "invalid_page"
    case invalidRecordsPerPage = "invalid_records_per_page"
    case invalidDate = "invalid_date"
    case invalidDateRange = "invalid_date_range"
    case invalidIncludes = "invalid_includes"
    case invalidWidgetEvent = "invalid_widget_event"
    case invalidBatch = "invalid_batch"
    case invalidLastEventID = "invalid_last_event_id"
    case invalidName = "invalid_name"
    case invalidReferralSource = "invalid_referral_source"
    case invalidURLScheme = "invalid_url_scheme"
    case invalidSubject = "invalid_subject"
    case invalidStatus = "invalid_status"
    case invalidWebhook = "invalid_webhook"
    case invalidMicrodeposit = "invalid_micro_deposit"

    // Who is calling.
    case missingToken = "missing_token"
    case invalidToken = "invalid_token"
    case tokenExpired = "token_expired"
    case tokenLifetimeTooLong = "token_lifetime_too_long"
    case missingCredentials = "missing_credentials"
    case invalidCredentials = "invalid_credentials"
    case invalidAdminToken = "invalid_admin_token"
    case invalidMetricsToken = "invalid_metrics_token"
    case invalidBackendKey = "invalid_backend_key"
    case foreignUserGUID = "foreign_user_guid"
    case sourceNotAllowed = "source_not_allowed"
    case productNotEnabled = "product_not_enabled"

    // The state of what is asked for.
    case notFound = "not_found"
    case jobConflict = "job_conflict"
    case duplicateMember = "duplicate_member"
    case notChallenged = "not_challenged"
    case productNotSupported = "product_not_supported"
    case webhookProcessing = "webhook_processing"

    // Limits.
    case rateLimited = "rate_limited"
    case tooManyStreams = "too_many_streams"
    case streamsUnavailable = "streams_unavailable"
    case serverBusy = "server_busy"

    // The broker and MX.
    case notReady = "not_ready"
    case webhooksNotConfigured = "webhooks_not_configured"
    case internalError = "internal_error"
    case mxAuthFailed = "mx_auth_failed"
    case mxConflict = "mx_conflict"
    case mxRejected = "mx_rejected"
    case mxRateLimited = "mx_rate_limited"
    case mxUnavailable = "mx_unavailable"
    case mxTimeout = "mx_timeout"
}
