import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The store for several replicas: one PostgreSQL database shared by every broker process.
///
/// Its connection pool must run for the store to answer: add ``service`` to the application's
/// services. Migrations run in one transaction under an advisory lock, so replicas starting
/// together apply each version once.
public final class PostgresStore: Store {
    private let client: PostgresClient
    private let logger: Logger

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=disable|prefer|require`)
    /// with at most `poolSize` connections.
    public convenience init(url: String, poolSize: Int = 10, logger: Logger) throws {
        var configuration = try Self.configuration(url)
        configuration.options.maximumConnections = poolSize
        self.init(configuration: configuration, logger: logger)
    }

    /// Connects with a full client configuration (pool size, startup parameters, TLS).
    public init(configuration: PostgresClient.Configuration, logger: Logger) {
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// The connection pool; it must run (as a service) while the store is used.
    public var service: some Service { client }

    /// The client configuration a `postgres://` URL describes.
    public static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, let user = components.user
        else { throw StoreConfigurationError("DATABASE_URL must look like postgres://user:password@host:5432/database") }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS =
            switch mode {
            case "disable": .disable
            case "require", "verify-full", "verify-ca": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        return PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: components.password,
            database: database.isEmpty ? nil : database,
            tls: tls
        )
    }

    // MARK: Schema

    /// An arbitrary constant: the advisory lock every replica takes to migrate.
    private static let migrationLock: Int64 = 0x636F_6E6E_6563_7462

    public func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at double precision NOT NULL)",
                logger: logger
            )
            var applied = Set<String>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(version)
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(Date().timeIntervalSince1970))",
                    logger: logger
                )
                logger.info("Applied migration", metadata: ["store.migration": "\(migration.version)"])
            }
        }
    }

    public func checkReady() async throws {
        var applied = Set<String>()
        for try await version in try await client.query("SELECT version FROM schema_migrations").decode(String.self) {
            applied.insert(version)
        }
        guard PostgresSchema.migrations.allSatisfy({ applied.contains($0.version) }) else { throw StoreError.migrationsPending }
    }

    // MARK: Users

    private typealias UserRow = (String, String, String, Double, Double?, String?)
    private static let userColumns = "app_user_id, mx_user_id, mx_user_guid, created_at, members_synced_at, profile_digest"

    private static func storedUser(_ row: UserRow) -> StoredUser {
        StoredUser(
            subject: row.0,
            mxUserID: row.1,
            mxUserGUID: row.2,
            createdAt: Date(timeIntervalSince1970: row.3),
            membersSyncedAt: row.4.map(Date.init(timeIntervalSince1970:)),
            profileDigest: row.5
        )
    }

    public func user(subject: String) async throws -> StoredUser? {
        try await first(
            PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM users WHERE app_user_id = $1", binds: binds(subject)),
            as: UserRow.self
        )
        .map(Self.storedUser)
    }

    public func user(mxUserGUID: String) async throws -> StoredUser? {
        try await first(
            PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM users WHERE mx_user_guid = $1", binds: binds(mxUserGUID)),
            as: UserRow.self
        )
        .map(Self.storedUser)
    }

    public func insertUser(_ user: StoredUser) async throws -> StoredUser {
        try await client.query(
            """
            INSERT INTO users (app_user_id, mx_user_id, mx_user_guid, created_at, profile_digest)
            VALUES (\(user.subject), \(user.mxUserID), \(user.mxUserGUID), \(user.createdAt.timeIntervalSince1970), \(user.profileDigest))
            ON CONFLICT (app_user_id) DO NOTHING
            """
        )
        guard let stored = try await self.user(subject: user.subject) else { throw StoreError.rowVanished }
        return stored
    }

    public func markMembersSynced(mxUserGUID: String, at date: Date) async throws {
        try await client.query("UPDATE users SET members_synced_at = \(date.timeIntervalSince1970) WHERE mx_user_guid = \(mxUserGUID)")
    }

    public func setProfileDigest(_ digest: String, mxUserGUID: String) async throws {
        try await client.query("UPDATE users SET profile_digest = \(digest) WHERE mx_user_guid = \(mxUserGUID)")
    }

    public func deleteUser(subject: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query("SELECT mx_user_guid FROM users WHERE app_user_id = \(subject) FOR UPDATE", logger: logger)
            var guid: String?
            for try await value in rows.decode(String.self) { guid = value }
            guard let guid else { return }
            for table in ["members", "deleted_members", "events", "widget_events"] {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE mx_user_guid = $1", binds: binds(guid)),
                    logger: logger
                )
            }
            try await connection.query("DELETE FROM users WHERE app_user_id = \(subject)", logger: logger)
        }
    }

    // MARK: Members

    private typealias MemberRow = (String, String, String?, String?, String?, Bool, String?, String?, Double, Int64?)
    private static let memberColumns = """
        member_guid, mx_user_guid, institution_code, name, connection_status, is_being_aggregated, aggregated_at,
        successfully_aggregated_at, refreshed_at, last_completed_at
        """

    private static func memberRecord(_ row: MemberRow) -> MemberRecord {
        MemberRecord(
            guid: row.0,
            mxUserGUID: row.1,
            institutionCode: row.2,
            name: row.3,
            connectionStatus: row.4,
            isBeingAggregated: row.5,
            aggregatedAt: row.6,
            successfullyAggregatedAt: row.7,
            refreshedAt: Date(timeIntervalSince1970: row.8),
            lastCompletedAt: row.9
        )
    }

    public func members(mxUserGUID: String) async throws -> [MemberRecord] {
        try await all(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.memberColumns) FROM members WHERE mx_user_guid = $1 ORDER BY created_at, member_guid",
                binds: binds(mxUserGUID)
            ),
            as: MemberRow.self
        ).map(Self.memberRecord)
    }

    public func member(guid: String, mxUserGUID: String) async throws -> MemberRecord? {
        try await first(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.memberColumns) FROM members WHERE member_guid = $1 AND mx_user_guid = $2",
                binds: binds(guid, mxUserGUID)
            ),
            as: MemberRow.self
        ).map(Self.memberRecord)
    }

    public func updateMember(
        guid: String,
        mxUserGUID: String,
        _ change: @escaping @Sendable (MemberRecord?) -> (record: MemberRecord, events: [NewEvent])
    ) async throws -> (record: MemberRecord, events: [StoredEvent]) {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(guid)))", logger: logger)
            var previous: MemberRecord?
            let stored = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.memberColumns) FROM members WHERE member_guid = $1 AND mx_user_guid = $2",
                    binds: try binds(guid, mxUserGUID)
                ),
                logger: logger
            )
            for try await row in stored.decode(MemberRow.self) { previous = Self.memberRecord(row) }
            let (member, events) = change(previous)
            let now = Date().timeIntervalSince1970
            let parameters = try binds(
                member.guid,
                member.mxUserGUID,
                member.institutionCode,
                member.name,
                member.connectionStatus,
                member.isBeingAggregated,
                member.aggregatedAt,
                member.successfullyAggregatedAt,
                member.refreshedAt.timeIntervalSince1970,
                member.lastCompletedAt,
                now,
                member.mxUserGUID,
                member.guid
            )
            let rows = try await connection.query(PostgresQuery(unsafeSQL: Self.memberUpsert, binds: parameters), logger: logger)
            var written = false
            for try await _ in rows.decode(String.self) { written = true }
            guard written else { return (member, []) }
            return (member, try await Self.append(events, for: member.mxUserGUID, at: now, on: connection, logger: logger))
        }
    }

    private static let memberUpsert = MemberUpsert.sql { "$\($0)" } + " RETURNING member_guid"

    public func deleteMember(guid: String, mxUserGUID: String, events: [NewEvent]) async throws -> [StoredEvent]? {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                "DELETE FROM members WHERE member_guid = \(guid) AND mx_user_guid = \(mxUserGUID) RETURNING member_guid",
                logger: logger
            )
            var existed = false
            for try await _ in rows.decode(String.self) { existed = true }
            let now = Date().timeIntervalSince1970
            try await connection.query(
                "INSERT INTO deleted_members (member_guid, mx_user_guid, deleted_at) VALUES (\(guid), \(mxUserGUID), \(now)) ON CONFLICT DO NOTHING",
                logger: logger
            )
            guard existed else { return nil }
            return try await Self.append(events, for: mxUserGUID, at: now, on: connection, logger: logger)
        }
    }

    public func appendEvents(_ events: [NewEvent], mxUserGUID: String) async throws -> [StoredEvent] {
        try await client.withTransaction(logger: logger) { connection in
            let users = try await connection.query("SELECT 1 FROM users WHERE mx_user_guid = \(mxUserGUID) FOR SHARE", logger: logger)
            var found = false
            for try await _ in users { found = true }
            guard found else { return [] }
            return try await Self.append(events, for: mxUserGUID, at: Date().timeIntervalSince1970, on: connection, logger: logger)
        }
    }

    private static func append(
        _ events: [NewEvent],
        for mxUserGUID: String,
        at now: Double,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws
        -> [StoredEvent]
    {
        var stored: [StoredEvent] = []
        for event in events {
            let rows = try await connection.query(
                "INSERT INTO events (mx_user_guid, kind, payload, created_at) VALUES (\(mxUserGUID), \(event.kind), \(event.payload), \(now)) RETURNING seq",
                logger: logger
            )
            for try await sequence in rows.decode(Int64.self) {
                stored.append(
                    StoredEvent(
                        sequence: sequence,
                        mxUserGUID: mxUserGUID,
                        kind: event.kind,
                        payload: event.payload,
                        createdAt: Date(timeIntervalSince1970: now)
                    )
                )
            }
        }
        if !stored.isEmpty {
            try await connection.query("SELECT pg_notify(\(Self.eventsChannel), \(mxUserGUID))", logger: logger)
        }
        return stored
    }

    // MARK: Events

    /// The channel on which every replica hears, at commit, whose events were stored.
    static let eventsChannel = "connect_broker_events"

    /// Calls `handler` with the MX user guid of every event any process stores, until the task
    /// is cancelled; a lost connection is re-established after a short pause (streams also look
    /// at the store at each heartbeat, so nothing is lost meanwhile).
    public func followEvents(_ handler: @escaping @Sendable (String) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.eventsChannel) { notifications in
                        for try await notification in notifications {
                            await handler(notification.payload)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("Listening for other replicas' events failed; retrying", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func events(mxUserGUID: String, after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await all(
            "SELECT seq, mx_user_guid, kind, payload, created_at FROM events WHERE mx_user_guid = \(mxUserGUID) AND seq > \(sequence) ORDER BY seq LIMIT \(limit)",
            as: (Int64, String, String, String, Double).self
        ).map { StoredEvent(sequence: $0.0, mxUserGUID: $0.1, kind: $0.2, payload: $0.3, createdAt: Date(timeIntervalSince1970: $0.4)) }
    }

    public func lastEventSequence(mxUserGUID: String) async throws -> Int64 {
        try await first("SELECT COALESCE(MAX(seq), 0) FROM events WHERE mx_user_guid = \(mxUserGUID)", as: Int64.self) ?? 0
    }

    public func recordWidgetEvents(_ records: [WidgetEventRecord]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for record in records {
                try await connection.query(
                    """
                    INSERT INTO widget_events (mx_user_guid, type, known, metadata, received_at)
                    VALUES (\(record.mxUserGUID), \(record.type), \(record.known), \(record.metadata), \(record.receivedAt.timeIntervalSince1970))
                    """,
                    logger: logger
                )
            }
        }
    }

    public func prune(widgetEventsBefore: Date, eventsBefore: Date) async throws -> Int {
        let widgetEvents = try await count("DELETE FROM widget_events WHERE received_at < \(widgetEventsBefore.timeIntervalSince1970) RETURNING id")
        let events = try await count("DELETE FROM events WHERE created_at < \(eventsBefore.timeIntervalSince1970) RETURNING seq")
        return widgetEvents + events
    }

    // MARK: Audit log

    public func recordAudit(_ entry: AuditEntry) async throws {
        try await client.query(
            """
            INSERT INTO audit_log (at, route, member_guid, account_guid, micro_deposit_guid, user_hash, caller, request_id)
            VALUES (\(entry.at.timeIntervalSince1970), \(entry.route), \(entry.memberGUID), \(entry.accountGUID), \(entry.microdepositGUID),
                \(entry.userHash), \(entry.caller), \(entry.requestID))
            """,
            logger: logger
        )
    }

    public func auditEntries(matching filter: AuditFilter, page: Int, perPage: Int) async throws -> (items: [AuditRecord], total: Int) {
        let condition = """
            ($1::text IS NULL OR user_hash = $1) AND ($2::text IS NULL OR member_guid = $2)
            AND ($3::double precision IS NULL OR at >= $3) AND ($4::double precision IS NULL OR at < $4)
            """
        let values: [(any PostgresEncodable & Sendable)?] = [
            filter.userHash, filter.memberGUID, filter.from?.timeIntervalSince1970, filter.until?.timeIntervalSince1970,
        ]
        let total =
            try await first(
                PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM audit_log WHERE \(condition)", binds: binds(values)),
                as: Int64.self
            ) ?? Int64(0)
        let rows = try await all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, at, route, member_guid, account_guid, micro_deposit_guid, user_hash, caller, request_id FROM audit_log
                    WHERE \(condition) ORDER BY id DESC LIMIT $5 OFFSET $6
                    """,
                binds: binds(values + [perPage, (page - 1) * perPage])
            ),
            as: (Int64, Double, String, String?, String?, String?, String, String, String).self
        )
        let items = rows.map { row in
            AuditRecord(
                id: row.0,
                entry: AuditEntry(
                    at: Date(timeIntervalSince1970: row.1),
                    route: row.2,
                    memberGUID: row.3,
                    accountGUID: row.4,
                    microdepositGUID: row.5,
                    userHash: row.6,
                    caller: row.7,
                    requestID: row.8
                )
            )
        }
        return (items, Int(total))
    }

    public func pruneAudit(before date: Date) async throws -> Int {
        try await count("DELETE FROM audit_log WHERE at < \(date.timeIntervalSince1970) RETURNING id")
    }

    // MARK: Webhook inbox

    private typealias InboxRow = (Int64, String, String?, String?, String?, String?, String, String, Int32, Int32, Double, String?, Double, Double?)
    private static let inboxColumns = """
        id, dedup_key, type, action, mx_user_guid, member_guid, body, status, attempts, duplicates, next_attempt_at, last_error,
        received_at, processed_at
        """

    private static func inboxItem(_ row: InboxRow) -> InboxItem {
        InboxItem(
            id: row.0,
            delivery: WebhookDelivery(
                dedupKey: row.1,
                type: row.2,
                action: row.3,
                mxUserGUID: row.4,
                memberGUID: row.5,
                body: row.6,
                receivedAt: Date(timeIntervalSince1970: row.12)
            ),
            status: WebhookStatus(rawValue: row.7) ?? .pending,
            attempts: Int(row.8),
            duplicates: Int(row.9),
            nextAttemptAt: Date(timeIntervalSince1970: row.10),
            note: row.11,
            processedAt: row.13.map(Date.init(timeIntervalSince1970:))
        )
    }

    public func enqueueWebhook(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        let received = delivery.receivedAt.timeIntervalSince1970
        guard
            let (id, duplicates) = try await first(
                """
                INSERT INTO webhook_inbox (dedup_key, type, action, mx_user_guid, member_guid, body, status, next_attempt_at, received_at)
                VALUES (\(delivery.dedupKey), \(delivery.type), \(delivery.action), \(delivery.mxUserGUID), \(delivery.memberGUID), \(delivery.body),
                    'pending', \(received), \(received))
                ON CONFLICT (dedup_key) DO UPDATE SET duplicates = webhook_inbox.duplicates + 1
                RETURNING id, duplicates
                """,
                as: (Int64, Int32).self
            )
        else { throw StoreError.rowVanished }
        return duplicates == 0 ? .accepted(id) : .duplicate(id)
    }

    /// Due deliveries and expired leases are found apart, each through the (status,
    /// next_attempt_at) index up to `limit`, so a claim costs the same however long the backlog.
    public func claimWebhooks(limit: Int, lease: TimeInterval, now: Date) async throws -> [InboxItem] {
        let stamp = now.timeIntervalSince1970
        return try await all(
            PostgresQuery(
                unsafeSQL: """
                    WITH due AS (
                        SELECT id, next_attempt_at FROM webhook_inbox
                        WHERE status = 'pending' AND next_attempt_at <= $2
                        ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
                    ), expired AS (
                        SELECT id, next_attempt_at FROM webhook_inbox
                        WHERE status = 'processing' AND lease_expires_at <= $2
                        ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
                    ), claimed AS (
                        SELECT id FROM (SELECT * FROM due UNION ALL SELECT * FROM expired) AS candidates
                        ORDER BY next_attempt_at, id LIMIT $3
                    )
                    UPDATE webhook_inbox SET status = 'processing', attempts = attempts + 1, lease_expires_at = $1
                    WHERE id IN (SELECT id FROM claimed)
                    RETURNING \(Self.inboxColumns)
                    """,
                binds: binds(stamp + lease, stamp, limit)
            ),
            as: InboxRow.self
        ).map(Self.inboxItem).sorted { $0.id < $1.id }
    }

    public func finishWebhook(id: Int64, status: WebhookStatus, note: String?, now: Date) async throws {
        try await client.query(
            """
            UPDATE webhook_inbox SET status = \(status.rawValue), last_error = \(note), processed_at = \(now.timeIntervalSince1970),
                lease_expires_at = NULL
            WHERE id = \(id)
            """
        )
    }

    public func retryWebhook(id: Int64, error: String, at date: Date) async throws {
        try await client.query(
            """
            UPDATE webhook_inbox SET status = 'pending', last_error = \(error), next_attempt_at = \(date.timeIntervalSince1970), lease_expires_at = NULL
            WHERE id = \(id)
            """
        )
    }

    public func webhooks(status: WebhookStatus?, page: Int, perPage: Int) async throws -> (items: [InboxItem], total: Int) {
        let filter = status?.rawValue
        let total =
            try await first("SELECT COUNT(*) FROM webhook_inbox WHERE \(filter)::text IS NULL OR status = \(filter)", as: Int64.self) ?? Int64(0)
        let items = try await all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.inboxColumns) FROM webhook_inbox WHERE $1::text IS NULL OR status = $1
                    ORDER BY id DESC LIMIT $2 OFFSET $3
                    """,
                binds: binds(filter, perPage, (page - 1) * perPage)
            ),
            as: InboxRow.self
        ).map(Self.inboxItem)
        return (items, Int(total))
    }

    public func webhook(id: Int64) async throws -> InboxItem? {
        try await first(PostgresQuery(unsafeSQL: "SELECT \(Self.inboxColumns) FROM webhook_inbox WHERE id = $1", binds: binds(id)), as: InboxRow.self)
            .map(Self.inboxItem)
    }

    public func replayWebhook(id: Int64, now: Date) async throws -> Bool {
        try await count(
            """
            UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = \(now.timeIntervalSince1970), lease_expires_at = NULL
            WHERE id = \(id) AND status <> 'processing' RETURNING id
            """
        ) > 0
    }

    public func webhookCounts() async throws -> [WebhookStatus: Int] {
        var counts = Dictionary(uniqueKeysWithValues: WebhookStatus.allCases.map { ($0, 0) })
        for (status, count) in try await all("SELECT status, COUNT(*) FROM webhook_inbox GROUP BY status", as: (String, Int64).self) {
            if let status = WebhookStatus(rawValue: status) { counts[status] = Int(count) }
        }
        return counts
    }

    // MARK: Queries

    private func all<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery,
        as _: (repeat each Column).Type
    ) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in try await client.query(query, logger: logger).decode((repeat each Column).self) {
            rows.append(row)
        }
        return rows
    }

    private func first<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery,
        as type: (repeat each Column).Type
    ) async throws -> (repeat each Column)? {
        try await all(query, as: type).first
    }

    private func count(_ query: PostgresQuery) async throws -> Int {
        var count = 0
        for try await row in try await client.query(query, logger: logger) {
            _ = row
            count += 1
        }
        return count
    }

    private func binds(_ values: (any PostgresEncodable & Sendable)?...) throws -> PostgresBindings {
        try binds(values)
    }

    private func binds(_ values: [(any PostgresEncodable & Sendable)?]) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values {
            if let value {
                try bindings.append(value)
            } else {
                bindings.appendNull()
            }
        }
        return bindings
    }
}

/// A store setting that cannot be used; the message never repeats a password.
public struct StoreConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
